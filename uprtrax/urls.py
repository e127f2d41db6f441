from django.contrib import admin
from django.urls import include, path

from uprtrax import views

urlpatterns = [
    path("", views.home, name="home"),
    path("", include("reviews.urls")),  # /states/, /sessions/
    path("", include("recommendations.urls")),  # /recommendations/
    path("", include("followup.urls")),  # /statistics/
    # Follow-up work (followup/<area>/: views, forms and urls of each area; the writes are followup/services/)
    path("", include("followup.accounts.urls")),  # /accounts/: log in and out, password reset, profile
    path("", include("followup.organisations.urls")),  # /organisations/: members, roles, invitations
    path("", include("followup.tokens.urls")),  # /accounts/tokens/: personal API tokens
    path("", include("followup.assessing.urls")),  # one recommendation's assessment, an assessment and its history
    path("", include("followup.bulk.urls")),  # many at once: from a search, and the work view of one review
    path("", include("followup.dashboard.urls")),  # /work/<organisation>/: what the organisation did, its export
    path("", include("followup.moderation.urls")),  # /moderation/: hidden and deleted assessments
    path("imports/", include("recommendations.imports.urls")),  # staff only
    path("api/v1/", include("uprtrax.api_urls")),
    path("admin/", admin.site.urls),
    path("healthz", views.healthz, name="healthz"),  # no slash: SECURE_REDIRECT_EXEMPT names it so
]
