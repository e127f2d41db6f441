"""Reads for assessing one recommendation: the organisations a person assesses for, their organisation's
assessments of the recommendation, one assessment and its history told as events."""

import datetime
from dataclasses import dataclass, field
from typing import Any

from followup import permissions
from followup.models import Assessment, Organisation, User

Visibility = Assessment.Visibility

# What each history entry's reason (set by the services and the import) means, in words.
EVENTS = {
    "recorded": "Recorded",
    "edited": "Edited",
    "recorded in bulk": "Recorded in bulk",
    "edited in bulk": "Edited in bulk",
    "imported": "Imported",
    "deleted": "Deleted",
    "restored": "Restored by a moderator",
    "shown again": "Shown again by a moderator",
}
EDITS = ("Edited", "Edited in bulk", "Imported")
HIDDEN_PREFIX = "hidden:"
# The fields whose changes the history shows, in this order; the others (version, editor, deletion, moderation)
# are what the event itself says.
DIFF_FIELDS = ("status", "phase", "assessed_on", "visibility", "comment", "evidence_urls")
FIELD_LABELS = {
    "status": "Status",
    "phase": "Phase",
    "assessed_on": "Date",
    "visibility": "Who sees it",
    "comment": "Comment",
    "evidence_urls": "Sources or evidence",
}
_CHOICES = {
    "status": dict(Assessment.Status.choices),
    "phase": dict(Assessment.Phase.choices),
    "visibility": dict(Visibility.choices),
}


def assessable_organisations(*, user: User) -> list[Organisation]:
    """The organisations whose assessments this person records: theirs (any role); an admin, every one."""
    if not user.is_authenticated:
        return []
    organisations = Organisation.objects.order_by("name")
    if permissions.is_admin(user):
        return list(organisations)
    return list(organisations.filter(memberships__user=user))


def organisation_assessments(*, organisation: Organisation, recommendation_id: int) -> list[Assessment]:
    """The organisation's current (not deleted) assessments of one recommendation, at most one per phase."""
    return list(
        Assessment.objects.alive()
        .filter(organisation=organisation, recommendation_id=recommendation_id)
        .select_related("author", "last_editor")
        .order_by("phase")
    )


def assessment_detail(*, pk: int) -> Assessment:
    """One assessment with its recommendation (review, state, session), organisation and the people named on it.
    Raises Assessment.DoesNotExist."""
    return Assessment.objects.select_related(
        "recommendation__review__state",
        "recommendation__review__session",
        "organisation",
        "author",
        "last_editor",
        "hidden_by",
        "deleted_by",
    ).get(pk=pk)


def is_insider(user: User, assessment: Assessment) -> bool:
    """Who sees the names of the people behind an assessment and its whole history: its organisation's members,
    moderators and admins."""
    return permissions.can_assess(user, assessment.organisation_id) or permissions.is_moderator(user)


@dataclass
class Change:
    field: str
    label: str
    old: Any
    new: Any
    old_text: str = ""  # choices and dates, in words
    new_text: str = ""
    added: list[str] = field(default_factory=list)  # evidence links
    removed: list[str] = field(default_factory=list)


@dataclass
class HistoryEntry:
    when: datetime.datetime
    what: str
    who: User | None = None  # None for the public, or when the user is gone
    reason: str = ""  # a moderator's reason for hiding (for insiders)
    changes: list[Change] = field(default_factory=list)
    values: list[Change] = field(default_factory=list)  # the first state shown: what it said then
    is_first: bool = False
    unchanged: bool = False  # an edit that changed nothing the history shows


def _text(name: str, value) -> str:
    if name in _CHOICES:
        return str(_CHOICES[name].get(value, value or "–"))
    if isinstance(value, datetime.date):
        return f"{value.day} {value:%B %Y}"
    return "" if value is None else str(value)


def _change(name: str, old, new) -> Change:
    change = Change(
        field=name, label=FIELD_LABELS[name], old=old, new=new, old_text=_text(name, old), new_text=_text(name, new)
    )
    if name == "evidence_urls":
        old, new = list(old or ()), list(new or ())
        change.removed = [url for url in old if url not in new]
        change.added = [url for url in new if url not in old]
    return change


def _values(record) -> list[Change]:
    return [_change(name, None, getattr(record, name)) for name in DIFF_FIELDS]


def _changes(record, previous) -> list[Change]:
    changed = {c.field: c for c in record.diff_against(previous, included_fields=DIFF_FIELDS).changes}
    return [_change(name, changed[name].old, changed[name].new) for name in DIFF_FIELDS if name in changed]


def _event(record) -> str:
    reason = record.history_change_reason or ""
    if reason.startswith(HIDDEN_PREFIX):
        return "Hidden by a moderator"
    if reason in EVENTS:
        return EVENTS[reason]
    return {"+": "Recorded", "-": "Removed"}.get(record.history_type, "Edited")


def _public(record) -> bool:
    return record.visibility == Visibility.PUBLIC and record.deleted_at is None and record.hidden_at is None


@dataclass
class History:
    entries: list[HistoryEntry]  # newest first
    complete: bool  # it starts with the assessment's creation (data loaded in bulk may have none before an edit)


def assessment_history(*, assessment: Assessment, insider: bool) -> History:
    """The assessment's history, newest first: when, what happened and, for changes, each field before and after.

    Insiders (is_insider) see every entry with who made it, and a moderator's reasons. The public sees only what was
    public: the entries while the assessment was public, compared with each other, and the moments it left public
    view; never who, never what it said while it was a draft, visible to its organisation only, hidden or deleted.
    One query.
    """
    records = list(assessment.history.select_related("history_user").order_by("history_date", "history_id"))
    entries: list[HistoryEntry] = []
    shown = None  # the last record whose content the reader saw: changes are told against it
    out = False  # (the public) the assessment has left public view since `shown`
    skipped = False  # (the public) records left out before the first one shown
    for record in records:
        what = _event(record)
        if insider:
            entry = HistoryEntry(when=record.history_date, what=what, who=record.history_user)
            if (record.history_change_reason or "").startswith(HIDDEN_PREFIX):
                entry.reason = record.hidden_reason or record.history_change_reason[len(HIDDEN_PREFIX) :].strip()
        elif _public(record):
            # The first public state, after states the public never saw, is when the assessment was made public.
            entry = HistoryEntry(when=record.history_date, what="Made public" if shown is None and skipped else what)
            out = False
        elif shown is not None and not out:
            # It left public view: say so, never what it said since.
            hidden_or_deleted = record.hidden_at is not None or record.deleted_at is not None
            entries.append(
                HistoryEntry(when=record.history_date, what=what if hidden_or_deleted else "Withdrawn from public view")
            )
            out = True
            continue
        else:
            skipped = True
            continue
        if shown is None:
            entry.values, entry.is_first = _values(record), True
        else:
            entry.changes = _changes(record, shown)
            entry.unchanged = not entry.changes and entry.what in EDITS
        shown = record
        entries.append(entry)
    entries.reverse()
    return History(entries=entries, complete=bool(records) and records[0].history_type == "+")
