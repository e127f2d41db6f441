from django.urls import path

from reviews import views

app_name = "reviews"
urlpatterns = [
    path("states/", views.state_list, name="state_list"),
    path("states/<str:iso3>/", views.state_detail, name="state_detail"),
    path("sessions/", views.session_list, name="session_list"),
    path("sessions/<int:number>/", views.session_detail, name="session_detail"),
]
