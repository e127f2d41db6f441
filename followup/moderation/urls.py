from django.urls import path

from followup.moderation import views

app_name = "moderation"
urlpatterns = [
    path("moderation/", views.queue, name="queue"),
    path("assessments/<int:pk>/hide/", views.hide, name="hide"),
    path("assessments/<int:pk>/unhide/", views.unhide, name="unhide"),
    path("assessments/<int:pk>/restore/", views.restore, name="restore"),
]
