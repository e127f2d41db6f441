"""Which file column holds which field: UPR Info exports, our canonical template, or an explicit mapping.

Canonical template (CSV or XLSX, first sheet), one row per recommendation, header in row 1:

| column                | required | content                                                                    |
|-----------------------|----------|----------------------------------------------------------------------------|
| state_under_review    | yes      | state name, alias or ISO3 code ("Côte d'Ivoire", "CIV")                    |
| session               | yes      | UPR Working Group session number, e.g. 28                                  |
| text                  | yes      | the recommendation's text, at most 10,000 characters                       |
| recommending_states   | no       | names separated by ";" (empty for a recommendation of unknown origin)      |
| paragraph_ref         | no       | paragraph in the Working Group report, e.g. 136.12 (then the import key)   |
| response              | no       | accepted/supported, noted/rejected, pending (empty = pending), or           |
|                       |          | "voluntary pledge" (then the row is a pledge of the state under review)    |
| action_category       | no       | McMahon's category 1-5, or empty                                           |
| issues                | no       | issue names separated by ";" (UPR Info's 54-issue list)                    |

UPR Info exports (To, To-Rgrp, To-Org, Text, From, From-Rgrp, From-Org, Response, Action, Issue, Session) are
recognised by their header; Issue holds several issues joined by ",".

Any other layout goes through a mapping (JSON):
    {"columns": {"Country": "state_under_review", "Recommended by": "recommending_states", ...},
     "synonyms": {"response": {"Supported": "accepted", "Not supported": "noted"}},
     "separators": {"recommending_states": "/", "issues": ";"}}
"""

from dataclasses import dataclass, field

from recommendations.imports.problems import ImportFailure

FIELDS = (
    "state_under_review",
    "session",
    "text",
    "recommending_states",
    "paragraph_ref",
    "response",
    "action_category",
    "issues",
)
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
TEMPLATE_COLUMNS = (
    TemplateColumn("state_under_review", True, "State under review: name, short form, alias or ISO3 code.", "CIV"),
    TemplateColumn("session", True, "UPR Working Group session number (1-54).", "28"),
    TemplateColumn("text", True, "The recommendation's text, at most 10,000 characters.",
                   "Ratify the Optional Protocol to the Convention against Torture"),
    TemplateColumn("recommending_states", False,
                   'Recommending states separated by ";"; empty for a recommendation of unknown origin.',
                   "France; Ghana"),
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
        layout = _from_mapping(mapping)
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
    for name in REQUIRED:
        column = layout.columns.get(name)
        if column is None or column not in present:
            shown = column or (name if layout.name == CANONICAL else "")
            raise ImportFailure(
                f'Required column "{shown or name}" ({name.replace("_", " ")}) is missing. Columns found: '
                f"{', '.join(header)}.",
                column=shown or name,
                row=1,
            )
    for name, column in layout.columns.items():
        if column not in present:
            raise ImportFailure(f'The mapping names column "{column}" for {name}, but the file has no such column.',
                                column=column, row=1)  # fmt: skip
    return layout


def _from_mapping(mapping: dict) -> Layout:
    if not isinstance(mapping, dict) or not isinstance(mapping.get("columns"), dict):
        raise ImportFailure('A mapping is a JSON object with "columns": {"file column": "field", ...}.')
    columns: dict[str, str] = {}
    for column, name in mapping["columns"].items():
        if name not in FIELDS:
            raise ImportFailure(f'Unknown field "{name}" for column "{column}"; fields are: {", ".join(FIELDS)}.',
                                column=column, value=str(name))  # fmt: skip
        columns[name] = column
    synonyms = {
        name: {str(k).strip().casefold(): str(v) for k, v in values.items()}
        for name, values in (mapping.get("synonyms") or {}).items()
    }
    separators = {name: str(sep) for name, sep in (mapping.get("separators") or {}).items() if sep}
    return Layout(MAPPING, columns, synonyms, separators)
