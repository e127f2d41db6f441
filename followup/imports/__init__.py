"""Import of follow-up assessments: a mid-term implementation assessment, our canonical template, or any
spreadsheet through a column mapping, with the recommendation import's report, record (ImportRun of kind
"assessments") and all-or-nothing commit.

Canonical template (CSV or XLSX, first sheet), one row per assessment, header in row 1: see TEMPLATE_COLUMNS.
The recommendation is named by its uprtrax id, or by state under review + session + text (+ recommending states
where a review holds the same text twice). Any other layout goes through a mapping (JSON), shaped as for
recommendations:
    {"columns": {"Recommendation": "text", "Stakeholder": "organisation", "Assessment": "status", ...},
     "synonyms": {"status": {"Not done": "not_implemented"}}, "separators": {"recommending_states": "/"}}

Modules: layout (fields, template, accepted words, layout_detect), rows (one row's checks), matching
(recommendations and organisations for all rows at once, duplicates), plan (create/update/unchanged, counts,
writes), service (assessment_import).
"""

from followup.imports.layout import FIELDS, IDENTITY, MULTI_VALUED, REQUIRED, TEMPLATE_COLUMNS, layout_detect
from followup.imports.service import assessment_import

__all__ = [
    "FIELDS",
    "IDENTITY",
    "MULTI_VALUED",
    "REQUIRED",
    "TEMPLATE_COLUMNS",
    "assessment_import",
    "layout_detect",
]
