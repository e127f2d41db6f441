from django.urls import path

from followup import views

app_name = "followup"
urlpatterns = [
    path("statistics/", views.statistics, name="statistics"),
    path("statistics/methodology/", views.statistics_methodology, name="statistics_methodology"),
    # /statistics/overall.csv, /statistics/issue.csv, ...: one table of the page, with its filters
    path("statistics/<str:table>.csv", views.statistics_csv, name="statistics_csv"),
]
