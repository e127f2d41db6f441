from django.urls import path

from recommendations import views

app_name = "recommendations"
urlpatterns = [
    path("recommendations/", views.recommendation_list, name="recommendation_list"),
    path("recommendations/export.csv", views.recommendation_export_csv, name="export_csv"),
    path("recommendations/export.xlsx", views.recommendation_export_xlsx, name="export_xlsx"),
    path("recommendations/<int:pk>/", views.recommendation_detail, name="recommendation_detail"),
]
