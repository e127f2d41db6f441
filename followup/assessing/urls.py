from django.urls import path

from followup.assessing import views

app_name = "assessing"
urlpatterns = [
    path("recommendations/<int:pk>/assess/", views.record, name="record"),
    path("assessments/<int:pk>/", views.detail, name="detail"),
    path("assessments/<int:pk>/delete/", views.delete, name="delete"),
]
