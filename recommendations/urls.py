from django.urls import path

from recommendations import views

app_name = "recommendations"
urlpatterns = [
    path("recommendations/", views.recommendation_list, name="recommendation_list"),
    path("recommendations/<int:pk>/", views.recommendation_detail, name="recommendation_detail"),
]
