from django.urls import path  # noqa: F401 (the routes come with the views)

app_name = "organisations"
urlpatterns: list = []
