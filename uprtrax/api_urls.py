"""The API, version 1, mounted at /api/v1/: reference data and recommendations (read), assessments (read; members
write their organisation's), implementation statistics (read), and the staff's import jobs."""

from rest_framework.routers import DefaultRouter, SimpleRouter

from followup.api import AssessmentViewSet
from followup.statistics_api import StatisticsViewSet
from recommendations.api import IssueViewSet, RecommendationViewSet
from recommendations.imports.api import ImportRunViewSet
from reviews.api import CycleViewSet, RegionalGroupViewSet, SessionViewSet, StateViewSet

app_name = "api"

router = DefaultRouter()
router.register("regional-groups", RegionalGroupViewSet)
router.register("cycles", CycleViewSet)
router.register("sessions", SessionViewSet)
router.register("states", StateViewSet)
router.register("issues", IssueViewSet)
router.register("recommendations", RecommendationViewSet, basename="recommendation")
# Anonymous: public assessments; members of an organisation also read and write their organisation's.
router.register("assessments", AssessmentViewSet, basename="assessment")
# Implementation statistics, from the latest snapshot: /api/v1/statistics/?phase=&rule=&cycle=&breakdown=
router.register("statistics", StatisticsViewSet, basename="statistics")

# Staff only, so kept out of the public root's list of endpoints: /api/v1/imports/.
staff_router = SimpleRouter()
staff_router.register("imports", ImportRunViewSet)

urlpatterns = router.urls + staff_router.urls
