from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from uprtrax import admin_jobs, views

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
    path("", include("followup.dumps.urls")),  # /dumps/<name>: the bulk data dump's files (listed by /api/v1/dumps/)
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),  # OpenAPI 3, from the code
    # Swagger UI, its files served by the app (sidecar) and its start script from a URL: no inline script (CSP).
    path(
        "api/docs/",
        SpectacularSwaggerSplitView.as_view(url_name="api-schema", template_name="api/docs.html"),
        name="api-docs",
    ),
    # The admin's Background jobs page (staff only: admin_view), before the admin's own catch-all addresses.
    path("admin/jobs/", admin.site.admin_view(admin_jobs.jobs_page), name="admin_jobs"),
    path("admin/", admin.site.urls),
    path("healthz", views.healthz, name="healthz"),  # no slash: SECURE_REDIRECT_EXEMPT names it so
    path("readyz", views.readyz, name="readyz"),  # the same: a probe follows no redirect
]

# Under /api/ Django's own errors answer in the API's error shape; elsewhere, the site's pages (templates/404.html...).
handler400 = "uprtrax.api_errors.bad_request"
handler403 = "uprtrax.api_errors.permission_denied"
handler404 = "uprtrax.api_errors.page_not_found"
handler500 = "uprtrax.api_errors.server_error"
