"""The API, version 1, mounted at /api/v1/: reference data, reviews, recommendations and organisations (read),
assessments (read; members write their organisation's), implementation statistics and the bulk dumps (read), and the
staff's import jobs. Lists order with `ordering`, page with `page_size` and a cursor or page numbers
(uprtrax/api_lists.py), and the wide ones show the `fields` asked for (uprtrax/api_fields.py)."""

from rest_framework.routers import DefaultRouter, SimpleRouter

from followup.api import AssessmentViewSet
from followup.dumps.api import DumpViewSet
from followup.organisations.api import OrganisationViewSet
from followup.statistics_api import StatisticsViewSet
from recommendations.api import IssueViewSet, RecommendationViewSet
from recommendations.imports.api import ImportRunViewSet
from reviews.api import (
    CycleViewSet,
    IntergovernmentalOrganisationViewSet,
    RegionalGroupViewSet,
    ReviewViewSet,
    SessionViewSet,
    StateViewSet,
)

app_name = "api"

router = DefaultRouter()
router.register("regional-groups", RegionalGroupViewSet)
router.register("cycles", CycleViewSet)
router.register("sessions", SessionViewSet)
router.register("states", StateViewSet)
# Organisations of states (AU, EU, OIC, ...) with their members: the values of the recommendations' `org` filter.
router.register("intergovernmental-organisations", IntergovernmentalOrganisationViewSet)
router.register("reviews", ReviewViewSet, basename="review")
router.register("issues", IssueViewSet)
router.register("recommendations", RecommendationViewSet, basename="recommendation")
# Anonymous: public assessments; members of an organisation also read and write their organisation's.
router.register("assessments", AssessmentViewSet, basename="assessment")
# The organisations that assess: their public details only (never members or emails).
router.register("organisations", OrganisationViewSet)
# Implementation statistics, from the latest snapshot: /api/v1/statistics/?phase=&rule=&cycle=&breakdown=
router.register("statistics", StatisticsViewSet, basename="statistics")
# The bulk data dump: the latest one's files (gzipped CSV per table, JSON Lines), served at /dumps/<name>.
router.register("dumps", DumpViewSet, basename="dumps")

# Staff only, so kept out of the public root's list of endpoints: /api/v1/imports/.
staff_router = SimpleRouter()
staff_router.register("imports", ImportRunViewSet)

urlpatterns = router.urls + staff_router.urls
