"""Read-only API for recommendation themes. The recommendations endpoint itself comes later."""

from rest_framework import serializers, viewsets

from recommendations.models import Issue


class IssueSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api:issue-detail", lookup_field="slug")

    class Meta:
        model = Issue
        fields = ["url", "slug", "name"]


class IssueViewSet(viewsets.ReadOnlyModelViewSet):
    """UPR Info's issues (themes), by slug: `/issues/womens-rights/`."""

    queryset = Issue.objects.order_by("name")
    serializer_class = IssueSerializer
    lookup_field = "slug"
