from django.contrib import admin
from django.urls import include, path

from uprtrax import views

urlpatterns = [
    path("", views.home, name="home"),
    path("", include("reviews.urls")),  # /states/, /sessions/
    path("", include("recommendations.urls")),  # /recommendations/
    path("", include("followup.urls")),  # /statistics/
    path("imports/", include("recommendations.imports.urls")),  # staff only
    path("api/v1/", include("uprtrax.api_urls")),
    path("admin/", admin.site.urls),
    path("healthz", views.healthz, name="healthz"),  # no slash: SECURE_REDIRECT_EXEMPT names it so
]
