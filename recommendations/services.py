"""Writes for recommendations, their issues and responses."""

from django.db import transaction
from django.utils.text import slugify

from recommendations.models import Issue
from recommendations.reference import ISSUES
from reviews.services import rows_sync


@transaction.atomic
def issues_load() -> dict[str, int]:
    """Create or update UPR Info's 54 issues (slug from the name). Idempotent; returns created/updated counts."""
    rows = [{"name": name, "slug": slugify(name)} for name in ISSUES]
    result = rows_sync(model=Issue, key="name", rows=rows)
    return {"issues_created": result["created"], "issues_updated": result["updated"]}
