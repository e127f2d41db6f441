from django.urls import path

from reviews import views

app_name = "reviews"
urlpatterns = [
    path("states/", views.state_list, name="state_list"),
    path("states/<str:iso3>/", views.state_detail, name="state_detail"),
    path("sessions/", views.session_list, name="session_list"),
    path("cycles/", views.cycle_list, name="cycle_list"),
    path("cycles/<int:number>/", views.cycle_detail, name="cycle_detail"),
    path("sessions/next/", views.session_next, name="session_next"),
    path("sessions/<int:number>/", views.session_detail, name="session_detail"),
    path("sessions/<int:number>/prepare/", views.session_prepare, name="session_prepare"),
]
