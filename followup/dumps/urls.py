from django.urls import path
from django.views.generic import RedirectView

from followup.dumps import views

app_name = "dumps"
urlpatterns = [
    # What the dump holds is described by the API; the address a person might type leads there.
    path("dumps/", RedirectView.as_view(pattern_name="api:dumps-list"), name="index"),
    path("dumps/<str:name>", views.dump_file, name="file"),
]
