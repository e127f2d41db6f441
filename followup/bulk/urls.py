from django.urls import path

from followup.bulk import views

app_name = "bulk"
urlpatterns = [
    path("assess/bulk/", views.bulk, name="bulk"),
    path("assess/bulk/done/", views.bulk_done, name="done"),
    path("work/<slug:slug>/reviews/<int:review_id>/", views.work_review, name="work_review"),
    path("work/<slug:slug>/reviews/<int:review_id>/save/", views.work_review_save, name="work_review_save"),
]
