"""Which file column holds which field of an assessment: our canonical template, or an explicit mapping; and the
words each field accepts."""

from followup.models import Assessment, Organisation
from recommendations.imports.layouts import CANONICAL, Layout, TemplateColumn, mapping_parse
from recommendations.imports.problems import ImportFailure

FIELDS = (
    "recommendation_id",
    "state_under_review",
    "session",
    "recommending_states",
    "text",
    "organisation",
    "organisation_kind",
    "status",
    "phase",
    "date",
    "comment",
    "evidence_url",
    "visibility",
)
# Always required; the recommendation itself needs recommendation_id, or all of IDENTITY.
REQUIRED = ("organisation", "status", "date")
IDENTITY = ("state_under_review", "session", "text")
MULTI_VALUED = ("recommending_states",)

TEMPLATE_COLUMNS = (
    TemplateColumn("recommendation_id", False,
                   "The recommendation's uprtrax id; when given, the next four columns may stay empty.", "1042"),
    TemplateColumn("state_under_review", False,
                   "State under review (name, alias or ISO3); required without recommendation_id.", "CIV"),
    TemplateColumn("session", False, "UPR Working Group session number; required without recommendation_id.", "19"),
    TemplateColumn("recommending_states", False,
                   'Recommending states separated by ";"; needed only where the review holds the same text twice.',
                   "France; Ghana"),
    TemplateColumn("text", False,
                   "The recommendation's text as in the review (case and spacing do not matter); required without "
                   "recommendation_id.", "Ratify the Optional Protocol to the Convention against Torture"),
    TemplateColumn("organisation", True,
                   "The stakeholder's name; an unknown one is created (then organisation_kind is required).",
                   "Ligue ivoirienne des droits de l'homme"),
    TemplateColumn("organisation_kind", False,
                   "CSO (NGO, civil society), NHRI, UN agency (UN), state (government), academic or other.", "CSO"),
    TemplateColumn("status", True,
                   "not implemented, partially implemented (partial), fully implemented (implemented), or no "
                   "information (no data, unknown).", "partially implemented"),
    TemplateColumn("phase", False, "mid-term (when empty) or next review.", "mid-term"),
    TemplateColumn("date", True, "Date of the assessment: yyyy-mm-dd, dd/mm/yyyy or dd.mm.yyyy; not in the future.",
                   "2016-05-31"),
    TemplateColumn("comment", False, "What was done or not, at most 10,000 characters.",
                   "A bill was drafted but not yet adopted."),
    TemplateColumn("evidence_url", False,
                   "Sources or evidence: http(s) addresses (at most 10), separated by spaces or line breaks.",
                   "https://www.upr-info.org/en/review/cote-divoire"),
    TemplateColumn("visibility", False, "public (when empty), organisation or draft.", "public"),
)  # fmt: skip


def _choices(choices, **extra: str) -> dict[str, str]:
    """A TextChoices' values and labels, case-folded and with "_" read as a space, plus extra words."""
    words = {}
    for value, label in choices.choices:
        for word in (value, value.replace("_", " "), label):
            words[word.casefold()] = value
    return words | {word.casefold(): value for word, value in extra.items()}


_S, _P, _V, _K = Assessment.Status, Assessment.Phase, Assessment.Visibility, Organisation.Kind
STATUS_SYNONYMS = _choices(_S, partial=_S.PARTIALLY_IMPLEMENTED, implemented=_S.FULLY_IMPLEMENTED,
                           **{"no data": _S.NO_INFORMATION, "unknown": _S.NO_INFORMATION})  # fmt: skip
PHASE_SYNONYMS = _choices(_P, **{"": _P.MID_TERM, "mid-term": _P.MID_TERM, "midterm": _P.MID_TERM,
                                 "next-review": _P.NEXT_REVIEW})  # fmt: skip
# Imported assessments come from published reports (mid-term assessments, stakeholder submissions): public unless
# the file says otherwise.
VISIBILITY_SYNONYMS = _choices(_V, **{"": _V.PUBLIC})
KIND_SYNONYMS = _choices(_K, ngo=_K.CSO, csos=_K.CSO, un=_K.UN_AGENCY, government=_K.STATE, academia=_K.ACADEMIC,
                         **{"civil society": _K.CSO, "civil society organization": _K.CSO,
                            "national human rights institution (nhri)": _K.NHRI})  # fmt: skip
HELP = {
    "status": "use not implemented, partially implemented, fully implemented or no information",
    "phase": "use mid-term (or leave it empty) or next review",
    "visibility": "use public (or leave it empty), organisation or draft",
    "organisation_kind": "use CSO (NGO, civil society), NHRI, UN agency, state (government), academic or other",
}
KINDS_HELP = "CSO, NHRI, UN agency, state, academic or other"


def layout_detect(*, header: list[str], mapping: dict | None) -> Layout:
    """The layout the header and optional mapping describe; raises ImportFailure naming a missing column."""
    present = set(header)
    if mapping:
        layout = mapping_parse(mapping, FIELDS)
    elif {"organisation", "status"} <= present:
        layout = Layout(CANONICAL, {f: f for f in FIELDS if f in present}, separators=dict.fromkeys(MULTI_VALUED, ";"))
    else:
        raise ImportFailure(
            "The columns do not match our assessment template (organisation, status, date, and recommendation_id "
            f"or state_under_review, session and text), and no mapping was given. Columns found: {', '.join(header)}.",
            row=1,
        )
    for name, column in layout.columns.items():
        if column not in present:
            raise ImportFailure(f'The mapping names column "{column}" for {name}, but the file has no such column.',
                                column=column, row=1)  # fmt: skip
    missing = [name for name in REQUIRED if name not in layout.columns]
    if "recommendation_id" not in layout.columns:
        missing += [name for name in IDENTITY if name not in layout.columns]
    if missing:
        names = ", ".join(f'"{name}"' for name in missing)
        verb = "are" if len(missing) > 1 else "is"
        raise ImportFailure(
            f"Required column{'s' if len(missing) > 1 else ''} {names} {verb} missing (the recommendation needs "
            f"recommendation_id, or state_under_review, session and text). Columns found: {', '.join(header)}.",
            column=missing[0],
            row=1,
        )
    return layout
