"""The plan of an assessment import (create / update / unchanged against the stored assessments), its preview
counts, and its writes in batches."""

from collections import defaultdict

from django.db.models import Q
from django.utils import timezone
from django.utils.text import slugify
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from followup.imports.matching import OrganisationRef, chunks
from followup.imports.rows import COMPARED, Row
from followup.models import Assessment, Organisation
from recommendations.imports.runs import Progress

BATCH = 1000  # rows per INSERT / UPDATE statement


class Plan:
    """Create / update / unchanged for each row, against the stored assessments (read in chunks)."""

    def __init__(self, rows: list[Row], organisations: dict[str, OrganisationRef], *, lock: bool):
        self.rows, self.organisations = rows, organisations
        stored_ids = {o.pk for o in organisations.values() if o.pk is not None}
        existing: dict[tuple, Assessment] = {}
        for chunk in chunks({r.recommendation_id for r in rows}):
            assessments = Assessment.objects.filter(recommendation_id__in=chunk, organisation_id__in=stored_ids)
            if lock:  # the commit writes what was planned: nobody changes these rows in between
                assessments = assessments.select_for_update()
            for assessment in assessments.only("id", "recommendation_id", "organisation_id", "phase", "version",
                                               *COMPARED):  # fmt: skip
                existing[(assessment.recommendation_id, assessment.organisation_id, assessment.phase)] = assessment
        self.create: list[Row] = []
        self.update: list[tuple[Assessment, Row]] = []
        self.unchanged = 0
        for row in rows:
            organisation = organisations[row.organisation.casefold()]
            assessment = existing.get((row.recommendation_id, organisation.pk, row.phase))
            if assessment is None:
                self.create.append(row)
            elif tuple(getattr(assessment, name) for name in COMPARED) != row.values():
                self.update.append((assessment, row))
            else:
                self.unchanged += 1

    def counts(self) -> dict:
        statuses = defaultdict(int)
        for row in self.rows:
            statuses[row.status] += 1
        return {
            "create": len(self.create),
            "update": len(self.update),
            "unchanged": self.unchanged,
            "assessments": len(self.rows),
            "organisations_to_create": sum(1 for o in self.organisations.values() if o.pk is None),
            "organisations": len({r.organisation.casefold() for r in self.rows}),
            "recommendations": len({r.recommendation_id for r in self.rows}),
            "states_under_review": len({r.state_id for r in self.rows}),
            **{status: statuses[status] for status in Assessment.Status.values},
            **{f"phase_{phase}": sum(1 for r in self.rows if r.phase == phase) for phase in Assessment.Phase.values},
        }

    def commit(self, *, user, progress: Progress) -> None:
        progress("writing", 0)
        new = [o for o in self.organisations.values() if o.pk is None]
        slugs = _slugs_unique([o.name for o in new])
        created = Organisation.objects.bulk_create(
            [
                Organisation(name=o.name, slug=slug, kind=o.kind, country_id=o.country_id)
                for o, slug in zip(new, slugs, strict=True)
            ],
            batch_size=BATCH,
        )
        for organisation, stored in zip(new, created, strict=True):
            organisation.pk = stored.pk  # returned by PostgreSQL and SQLite (RETURNING)
        author = user if getattr(user, "pk", None) else None
        written = 0
        for chunk in chunks(self.create, BATCH):
            bulk_create_with_history([
                Assessment(recommendation_id=row.recommendation_id, organisation_id=self._organisation(row),
                           author=author, last_editor=author, phase=row.phase,
                           **{name: getattr(row, name) for name in COMPARED})
                for row in chunk
            ], Assessment, default_user=author, default_change_reason="imported")  # fmt: skip
            written += len(chunk)
            progress("writing", written)
        now = timezone.now()
        for chunk in chunks(self.update, BATCH):
            for assessment, row in chunk:
                for name in COMPARED:
                    setattr(assessment, name, getattr(row, name))
                assessment.version += 1
                assessment.last_editor = author
                assessment.updated_at = now  # bulk_update does not apply auto_now
            bulk_update_with_history(
                [a for a, _ in chunk], Assessment, [*COMPARED, "version", "last_editor", "updated_at"],
                default_user=author, default_change_reason="imported",
            )  # fmt: skip
            written += len(chunk)
            progress("writing", written)

    def _organisation(self, row: Row) -> int:
        return self.organisations[row.organisation.casefold()].pk


def _slugs_unique(names: list[str]) -> list[str]:
    """A slug per name, unique among the stored ones and each other (one query for all names)."""
    bases = [(slugify(name)[:190] or "organisation") for name in names]
    taken: set[str] = set()
    for chunk in chunks(set(bases), 500):
        query = Q()
        for base in chunk:
            query |= Q(slug__startswith=base)
        taken.update(Organisation.objects.filter(query).values_list("slug", flat=True))
    slugs = []
    for base in bases:
        slug, n = base, 2
        while slug in taken:
            slug, n = f"{base}-{n}", n + 1
        taken.add(slug)
        slugs.append(slug)
    return slugs
