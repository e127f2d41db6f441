"""The API, version 1, mounted at /api/v1/: read-only reference data for now."""

from rest_framework.routers import DefaultRouter

from recommendations.api import IssueViewSet
from reviews.api import CycleViewSet, RegionalGroupViewSet, SessionViewSet, StateViewSet

app_name = "api"

router = DefaultRouter()
router.register("regional-groups", RegionalGroupViewSet)
router.register("cycles", CycleViewSet)
router.register("sessions", SessionViewSet)
router.register("states", StateViewSet)
router.register("issues", IssueViewSet)

urlpatterns = router.urls
