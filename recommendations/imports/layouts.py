"""Which file column holds which field: UPR Info exports, our canonical template, or an explicit mapping.

Canonical template (CSV or XLSX, first sheet), one row per recommendation, header in row 1:

| column                | required | content                                                                    |
|-----------------------|----------|----------------------------------------------------------------------------|
| state_under_review    | yes (1)  | state name, alias or ISO3 code ("Côte d'Ivoire", "CIV")                    |
| session               | one of   | UPR Working Group session number, e.g. 29                                  |
| date                  |  these   | a day of the Working Group session: 2018-01-22, 22/01/2018, 22.01.2018,    |
|                       |   four   | "22 January 2018" (or an XLSX date cell)                                   |
| cycle                 |   (2)    | UPR cycle 1-4: the state's review in that cycle, which must exist already  |
| document_symbol       |          | a national report, compilation or summary (A/HRC/WG.6/29/FRA/1: session    |
|                       |          | and state), or the Working Group report recorded on a review (A/HRC/28/12) |
| text                  | yes      | the recommendation's text, at most 10,000 characters                       |
| recommending_states   | no       | names separated by ";" (empty for a recommendation of unknown origin)      |
| paragraph_ref         | no       | paragraph in the Working Group report, e.g. 136.12 (then the import key)   |
| response              | no       | accepted/supported, noted/rejected, pending (empty = pending), or           |
|                       |          | "voluntary pledge" (then the row is a pledge of the state under review)    |
| action_category       | no       | McMahon's category 1-5, or empty                                           |
| issues                | no       | issue names separated by ";" (UPR Info's 54-issue list)                    |

(1) Unless a document_symbol column is given: the symbol names the state. Where both are given they must agree.
(2) Where a row gives several of them, they must agree (recommendations.imports.review_lookup).

UPR Info exports (To, To-Rgrp, To-Org, Text, From, From-Rgrp, From-Org, Response, Action, Issue, Session) are
recognised by their header; Issue holds several issues joined by ",".

Any other layout goes through a mapping (JSON):
    {"columns": {"Country": "state_under_review", "Recommended by": "recommending_states", ...},
     "synonyms": {"response": {"Supported": "accepted", "Not supported": "noted"}},
     "separators": {"recommending_states": "/", "issues": ";"}}
"""

from collections.abc import Iterable
from dataclasses import dataclass, field

from recommendations.imports.problems import ImportFailure

FIELDS = (
    "state_under_review",
    "session",
    "date",
    "cycle",
    "document_symbol",
    "text",
    "recommending_states",
    "paragraph_ref",
    "response",
    "action_category",
    "issues",
)
# Any one of these says which review a row belongs to (recommendations.imports.review_lookup resolves them).
REVIEW_FIELDS = ("session", "date", "cycle", "document_symbol")
# What a file must give. "session" stands for any of REVIEW_FIELDS, and a document_symbol also names the state
# under review: required_missing() applies these alternatives.
REQUIRED = ("state_under_review", "session", "text")
MULTI_VALUED = ("recommending_states", "issues")


@dataclass(frozen=True)
class TemplateColumn:
    """One column of a canonical template: documented on the import page and in the downloadable files."""

    name: str
    required: bool
    description: str
    example: str


# The canonical recommendation template, column by column (the import page and the downloads are built from it).
# The example row gives all four ways of naming the review, in agreement, so that the template imports as it is.
TEMPLATE_COLUMNS = (
    TemplateColumn("state_under_review", True,
                   "State under review: name, short form, alias or ISO3 code. May be left out when "
                   "document_symbol names the state.", "FRA"),
    TemplateColumn("session", True,
                   "UPR Working Group session number (1-54). Instead of it, a row may give date, cycle or "
                   "document_symbol; where it gives several, they must agree.", "29"),
    TemplateColumn("date", False,
                   "A day of the Working Group session: 2018-01-22, 22/01/2018, 22.01.2018 or 22 January 2018. "
                   "Works only for sessions whose dates are known.", "2018-01-22"),
    TemplateColumn("cycle", False,
                   "UPR cycle (1-4): the state's review in that cycle, which must already be recorded.", "3"),
    TemplateColumn("document_symbol", False,
                   "UN symbol of the national report, compilation or summary (A/HRC/WG.6/<session>/<state>/1-3), "
                   "or the Working Group report symbol recorded on the review (e.g. A/HRC/28/12).",
                   "A/HRC/WG.6/29/FRA/1"),
    TemplateColumn("text", True, "The recommendation's text, at most 10,000 characters.",
                   "Ratify the Optional Protocol to the Convention against Torture"),
    TemplateColumn("recommending_states", False,
                   'Recommending states separated by ";"; empty for a recommendation of unknown origin.',
                   "Brazil; Ghana"),
    TemplateColumn("paragraph_ref", False,
                   "Paragraph in the Working Group report; when given, it is the import key.", "136.12"),
    TemplateColumn("response", False,
                   'accepted (or supported), noted (or rejected), pending (or empty), or "voluntary pledge".',
                   "accepted"),
    TemplateColumn("action_category", False, "McMahon's action category, 1 (minimal) to 5 (specific), or empty.",
                   "5"),
    TemplateColumn("issues", False, "Issues from UPR Info's list of 54, separated by \";\".",
                   "Torture and other CID treatment; Detention"),
)  # fmt: skip

UPR_INFO = "upr_info"
CANONICAL = "canonical"
MAPPING = "mapping"

_UPR_INFO_COLUMNS = {
    "To": "state_under_review",
    "Session": "session",
    "Text": "text",
    "From": "recommending_states",
    "Response": "response",
    "Action": "action_category",
    "Issue": "issues",
}


@dataclass
class Layout:
    name: str
    columns: dict[str, str]  # field -> file column
    synonyms: dict[str, dict[str, str]] = field(default_factory=dict)
    separators: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {"columns": self.columns, "synonyms": self.synonyms, "separators": self.separators}


def layout_detect(*, header: list[str], mapping: dict | None) -> Layout:
    """The layout the header and optional mapping describe; raises ImportFailure naming a missing column."""
    present = set(header)
    if mapping:
        layout = mapping_parse(mapping, FIELDS)
    elif set(_UPR_INFO_COLUMNS) - {"Issue"} <= present:
        layout = Layout(
            UPR_INFO,
            {f: c for c, f in _UPR_INFO_COLUMNS.items() if c in present},
            separators={"issues": ","},
        )
    elif "state_under_review" in present or "text" in present:
        layout = Layout(CANONICAL, {f: f for f in FIELDS if f in present}, separators=dict.fromkeys(MULTI_VALUED, ";"))
    else:
        raise ImportFailure(
            "The columns match neither UPR Info's export nor our canonical template, and no mapping was given. "
            f"Columns found: {', '.join(header)}.",
            row=1,
        )
    missing = required_missing(name for name, column in layout.columns.items() if column in present)
    if missing:
        raise _missing_failure(missing, layout, header)
    for name, column in layout.columns.items():
        if column not in present:
            raise ImportFailure(f'The mapping names column "{column}" for {name}, but the file has no such column.',
                                column=column, row=1)  # fmt: skip
    return layout


def required_missing(fields: Iterable[str]) -> list[str]:
    """The REQUIRED fields that none of the given fields stands for, in REQUIRED's order.

    "session" is given by any of REVIEW_FIELDS; "state_under_review" by itself or by a document_symbol (the
    symbol names the state). The mapping form and the job API can check a mapping with this before any import.
    """
    given = set(fields)
    stands_for = {"session": set(REVIEW_FIELDS), "state_under_review": {"state_under_review", "document_symbol"}}
    return [name for name in REQUIRED if not given & stands_for.get(name, {name})]


def _missing_failure(missing: list[str], layout: Layout, header: list[str]) -> ImportFailure:
    """One failure naming every missing field (with its alternatives) and the columns the file has."""
    shown = [layout.columns.get(name) or name for name in missing]
    alternatives = {
        "session": ' (or "date", "cycle" or "document_symbol": what says which review a row belongs to)',
        "state_under_review": ' (or "document_symbol", which names the state)',
    }
    names = ", ".join(f'"{column}"{alternatives.get(name, "")}' for name, column in zip(missing, shown, strict=True))
    plural = len(missing) > 1
    return ImportFailure(
        f"Required column{'s' if plural else ''} {names} {'are' if plural else 'is'} missing. "
        f"Columns found: {', '.join(header)}.",
        column=shown[0],
        row=1,
    )


def mapping_parse(mapping: dict, fields: tuple[str, ...]) -> Layout:
    """A mapping (JSON: columns, synonyms, separators) -> Layout, for any kind of import with these fields;
    ImportFailure on a malformed mapping or an unknown field."""
    if not isinstance(mapping, dict) or not isinstance(mapping.get("columns"), dict):
        raise ImportFailure('A mapping is a JSON object with "columns": {"file column": "field", ...}.')
    columns: dict[str, str] = {}
    for column, name in mapping["columns"].items():
        if name not in fields:
            raise ImportFailure(f'Unknown field "{name}" for column "{column}"; fields are: {", ".join(fields)}.',
                                column=column, value=str(name))  # fmt: skip
        columns[name] = column
    raw_synonyms, raw_separators = mapping.get("synonyms") or {}, mapping.get("separators") or {}
    if not isinstance(raw_synonyms, dict) or not all(isinstance(v, dict) for v in raw_synonyms.values()):
        raise ImportFailure('Synonyms map a field to {"value in the file": "value"}, e.g. '
                            '{"response": {"Supported": "accepted"}}.')  # fmt: skip
    if not isinstance(raw_separators, dict):
        raise ImportFailure('Separators map a field to its separator, e.g. {"recommending_states": ";"}.')
    synonyms = {
        name: {str(k).strip().casefold(): str(v) for k, v in values.items()} for name, values in raw_synonyms.items()
    }
    separators = {name: str(sep) for name, sep in raw_separators.items() if sep}
    return Layout(MAPPING, columns, synonyms, separators)
