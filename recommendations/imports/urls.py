"""The staff's import pages, at /imports/."""

from django.urls import path

from recommendations.imports import views

app_name = "imports"
urlpatterns = [
    path("", views.import_list, name="import_list"),
    path("<int:pk>/", views.run_detail, name="run_detail"),
    path("<int:pk>/confirm/", views.run_confirm, name="run_confirm"),
    path("<int:pk>/rerun/", views.run_rerun, name="run_rerun"),
    path("<int:pk>/mapping/", views.mapping_edit, name="mapping_edit"),
    path("template/<slug:kind>.csv", views.template_download, {"fmt": "csv"}, name="template_csv"),
    path("template/<slug:kind>.xlsx", views.template_download, {"fmt": "xlsx"}, name="template_xlsx"),
]
