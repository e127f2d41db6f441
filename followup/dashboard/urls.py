from django.urls import path

from followup.dashboard import views

app_name = "dashboard"
urlpatterns = [
    path("work/", views.home, name="home"),
    path("work/<slug:slug>/", views.dashboard, name="dashboard"),
    path("work/<slug:slug>/export.csv", views.export_csv, name="export_csv"),
    path("work/<slug:slug>/export.xlsx", views.export_xlsx, name="export_xlsx"),
]
