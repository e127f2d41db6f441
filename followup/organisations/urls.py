from django.urls import path

from followup.organisations import views

app_name = "organisations"
urlpatterns = [
    path("organisations/", views.organisation_list, name="list"),
    path("organisations/<slug:slug>/", views.organisation_detail, name="detail"),
    path("organisations/<slug:slug>/members/", views.organisation_members, name="members"),
    path("organisations/<slug:slug>/members/invite/", views.invitation_create, name="invite"),
    path(
        "organisations/<slug:slug>/members/<int:membership_id>/role/",
        views.membership_role_change,
        name="role_change",
    ),
    path("organisations/<slug:slug>/members/<int:membership_id>/remove/", views.membership_remove, name="remove"),
    path(
        "organisations/<slug:slug>/invitations/<int:invitation_id>/revoke/",
        views.invitation_revoke,
        name="invitation_revoke",
    ),
    path("invitations/<str:token>/", views.invitation, name="invitation"),
]
