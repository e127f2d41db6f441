"""The import page's forms: a new import (kind, file, preset, encoding, sheet) and the mapping editor.

The mapping editor turns one select per file column, value synonyms and separators into the mapping the importers
read ({"columns": {"file column": "field"}, "synonyms": {...}, "separators": {...}}), and refuses, naming them, a
required field left unmapped, a field mapped twice and a synonym to a value the importer does not know.
"""

from pathlib import PurePosixPath

from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat

from recommendations.imports.jobs import IMPORT_KINDS, ImportKind
from recommendations.imports.normalise import PLEDGE, RESPONSE_SYNONYMS
from recommendations.models import ImportMapping, ImportRun

FILE_SUFFIXES = (".csv", ".txt", ".tsv", ".xlsx", ".xlsm")
FILE_ACCEPT = ",".join(
    [*FILE_SUFFIXES, "text/csv", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"]
)
# The encodings a CSV file comes in, by Python codec name; detection handles most files on its own.
ENCODINGS = [
    ("", "Detect automatically"),
    ("utf-8", "UTF-8"),
    ("utf-8-sig", "UTF-8 with BOM"),
    ("utf-16", "UTF-16"),
    ("cp1252", "Windows-1252"),
    ("mac_roman", "Mac Roman"),
    ("latin-1", "Latin-1 (ISO 8859-1)"),
]
IGNORE = ""
SYNONYM_EXAMPLES = {"response": "Supported = accepted", "status": "Not done = not implemented"}


def synonym_targets(kind: str) -> dict[str, dict[str, str]]:
    """For each field that takes synonyms: the words its importer understands (case-folded) -> the stored value."""
    if kind == ImportRun.Kind.RECOMMENDATIONS:
        words = {word: value for word, value in RESPONSE_SYNONYMS.items() if word}
        return {"response": {**words, PLEDGE: PLEDGE}}
    try:  # the assessment import keeps its accepted words with its layout
        from followup.imports import layout as words
    except ImportError:
        from followup import imports as words
    return {
        "status": words.STATUS_SYNONYMS,
        "phase": words.PHASE_SYNONYMS,
        "visibility": words.VISIBILITY_SYNONYMS,
        "organisation_kind": words.KIND_SYNONYMS,
    }


def field_label(name: str) -> str:
    return name.replace("_", " ").capitalize()


def _required_missing(kind: ImportKind, mapped: set[str]) -> list[str]:
    """Required fields with no column. Assessments name their recommendation by id, or by all of IDENTITY."""
    missing = kind.required_missing(mapped)
    if kind.name == ImportRun.Kind.ASSESSMENTS and "recommendation_id" not in mapped:
        from followup.imports import IDENTITY

        missing += [name for name in IDENTITY if name not in mapped]
    return missing


class ImportStartForm(forms.Form):
    kind = forms.ChoiceField(
        label="What the file holds", widget=forms.RadioSelect, initial=ImportRun.Kind.RECOMMENDATIONS
    )
    file = forms.FileField(
        label="File",
        help_text="CSV or XLSX, at most " + filesizeformat(settings.IMPORT_MAX_BYTES) + ".",
        widget=forms.ClearableFileInput(attrs={"accept": FILE_ACCEPT}),
    )
    preset = forms.ChoiceField(
        label="Saved mapping",
        required=False,
        help_text="For a file in neither UPR Info's layout nor our template; you can also map its columns after "
        "the preview.",
    )
    encoding = forms.ChoiceField(
        label="Encoding (CSV only)",
        choices=ENCODINGS,
        required=False,
        help_text="Change it only if the preview shows garbled letters.",
    )
    sheet = forms.CharField(
        label="Sheet (XLSX only)", max_length=100, required=False, help_text="Empty for the first sheet."
    )

    def __init__(self, *args, presets=(), **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [(name, kind.label) for name, kind in IMPORT_KINDS.items()]
        self.presets = {preset.pk: preset for preset in presets}
        groups = {}
        for preset in presets:
            groups.setdefault(preset.get_kind_display(), []).append((str(preset.pk), preset.name))
        self.fields["preset"].choices = [("", "None: detect the layout"), *groups.items()]

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if PurePosixPath(upload.name.lower()).suffix not in FILE_SUFFIXES:
            raise forms.ValidationError(
                f'"{upload.name}" is neither CSV nor XLSX: choose a file ending in {", ".join(FILE_SUFFIXES)}.'
            )
        if upload.size > settings.IMPORT_MAX_BYTES:
            raise forms.ValidationError(
                f'"{upload.name}" is {filesizeformat(upload.size)}, over the limit of '
                f"{filesizeformat(settings.IMPORT_MAX_BYTES)}."
            )
        return upload

    def clean_preset(self):
        value = self.cleaned_data["preset"]
        return self.presets[int(value)] if value else None

    def clean(self):
        cleaned = super().clean()
        preset, kind = cleaned.get("preset"), cleaned.get("kind")
        if preset is not None and kind and preset.kind != kind:
            self.add_error(
                "preset",
                f'The mapping "{preset.name}" is for {preset.get_kind_display().lower()}, not '
                f"{IMPORT_KINDS[kind].label.lower()}.",
            )
        return cleaned

    def options(self) -> dict[str, str]:
        preset = self.cleaned_data["preset"]
        return {
            "encoding": self.cleaned_data["encoding"],
            "sheet": self.cleaned_data["sheet"],
            "mapping_name": preset.name if preset else "",
        }


class MappingForm(forms.Form):
    """One select per file column (column_0, column_1, ...), synonyms and separators per field, a preset name."""

    preset_name = forms.CharField(
        label="Save this mapping as",
        max_length=100,
        required=False,
        help_text="Optional: a name to reuse the mapping for the next file of this layout (an existing mapping "
        "of that name is updated).",
    )

    def __init__(self, *args, kind: ImportKind, header: list[str], sample: list[list[str]], current: dict, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.kind, self.header = kind, header
        self.targets = {name: words for name, words in synonym_targets(kind.name).items() if name in kind.fields}
        choices = [(IGNORE, "Ignore this column")] + [
            (name, field_label(name) + (" (required)" if name in kind.required else "")) for name in kind.fields
        ]
        columns = _initial_columns(current, header, kind.fields)
        self.rows = []
        for i, column in enumerate(header):
            key = f"column_{i}"
            self.fields[key] = forms.ChoiceField(
                label=column or f"(column {i + 1}, no header)", choices=choices, required=False,
                initial=columns.get(column, IGNORE),
            )  # fmt: skip
            values = [row[i] for row in sample if i < len(row) and row[i].strip()]
            self.rows.append({"column": column, "field": key, "samples": values})
        synonyms = current.get("synonyms") or {}
        for name, words in self.targets.items():
            self.fields[f"synonyms_{name}"] = forms.CharField(
                label=f"Synonyms for {field_label(name).lower()}",
                required=False,
                widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false"}),
                initial="\n".join(f"{word} = {value}" for word, value in (synonyms.get(name) or {}).items()),
                help_text=f'One per line, "value in the file = value", e.g. '
                f'"{SYNONYM_EXAMPLES.get(name, "Yes = " + next(iter(words)))}". Values: '
                f"{', '.join(sorted(set(words.values()) - {''}))}.",
            )
        separators = current.get("separators") or {}
        for name in kind.multi_valued:
            self.fields[f"separator_{name}"] = forms.CharField(
                label=f"Separator between {field_label(name).lower()}",
                max_length=5,
                required=False,
                strip=False,
                initial=separators.get(name, ";"),
                widget=forms.TextInput(attrs={"size": 4, "autocomplete": "off", "spellcheck": "false"}),
                help_text="Empty when a cell holds one value only.",
            )

    def column_fields(self):
        for row in self.rows:
            yield {**row, "bound": self[row["field"]]}

    def synonym_fields(self):
        return [self[f"synonyms_{name}"] for name in self.targets]

    def separator_fields(self):
        return [self[f"separator_{name}"] for name in self.kind.multi_valued]

    def clean(self):
        cleaned = super().clean()
        by_field: dict[str, list[int]] = {}
        for i, _column in enumerate(self.header):
            name = cleaned.get(f"column_{i}")
            if name:
                by_field.setdefault(name, []).append(i)
        for name, indexes in by_field.items():
            if len(indexes) > 1:
                columns = " and ".join(f'"{self.header[i]}"' for i in indexes)
                for i in indexes:
                    self.add_error(f"column_{i}", f"{field_label(name)} is chosen for {len(indexes)} columns "
                                                  f"({columns}): choose it for one only.")  # fmt: skip
        for name in _required_missing(self.kind, set(by_field)):
            self.add_error(None, f'The required field "{field_label(name)}" is not chosen for any column.')
        self.synonyms = {}
        for name, words in self.targets.items():
            parsed = self._synonyms_parse(name, cleaned.get(f"synonyms_{name}", ""), words)
            if parsed:
                self.synonyms[name] = parsed
        self.columns = {self.header[indexes[0]]: name for name, indexes in by_field.items()}
        return cleaned

    def _synonyms_parse(self, name: str, text: str, words: dict[str, str]) -> dict[str, str]:
        parsed, problems = {}, []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            source, equals, target = line.partition("=")
            source, target = source.strip(), target.strip()
            if not equals or not source:
                problems.append(f'Line {number} ("{line.strip()}"): write "value in the file = value".')
            elif target.casefold() not in words:
                known = ", ".join(sorted(set(words.values()) - {""}))
                problems.append(f'Line {number}: "{target}" is not a known {field_label(name).lower()}; use one '
                                f"of {known}.")  # fmt: skip
            else:
                parsed[source] = target
        for problem in problems:
            self.add_error(f"synonyms_{name}", problem)
        return parsed

    def mapping(self) -> dict:
        """The mapping the importers read, from a valid form."""
        mapped = set(self.columns.values())
        separators = {
            name: self.cleaned_data[f"separator_{name}"].strip() or ""
            for name in self.kind.multi_valued
            if name in mapped
        }
        return {"columns": self.columns, "synonyms": self.synonyms, "separators": separators}

    def preset_save(self, *, user) -> ImportMapping | None:
        """Create or update the named preset of this kind; None when no name was given."""
        name = self.cleaned_data["preset_name"].strip()
        if not name:
            return None
        preset, _ = ImportMapping.objects.update_or_create(
            name=name, defaults={"kind": self.kind.name, "mapping": self.mapping(), "created_by": user}
        )
        return preset

    def clean_preset_name(self):
        name = self.cleaned_data["preset_name"].strip()
        other = ImportMapping.objects.filter(name=name).exclude(kind=self.kind.name).first() if name else None
        if other is not None:
            raise forms.ValidationError(
                f'A mapping named "{name}" exists for {other.get_kind_display().lower()}: choose another name.'
            )
        return name


def _initial_columns(current: dict, header: list[str], fields: tuple[str, ...]) -> dict[str, str]:
    """File column -> field: the run's mapping where it has one, else the columns named like a field."""
    columns = {column: name for column, name in (current.get("columns") or {}).items() if name in fields}
    if columns:
        return columns
    by_name = {name.casefold(): name for name in fields}
    found = {}
    for column in header:
        name = by_name.get(column.strip().casefold().replace(" ", "_"))
        if name and name not in found.values():
            found[column] = name
    return found


def mapping_current(run: ImportRun) -> dict:
    """The mapping to start the editor from: the one the run was given (file column -> field), else the layout it
    detected (recorded the other way round, field -> file column), else nothing."""
    given = (run.options or {}).get("mapping")
    if given:
        return given
    recorded = run.mapping or {}
    if run.layout and isinstance(recorded.get("columns"), dict):
        return {**recorded, "columns": {column: name for name, column in recorded["columns"].items()}}
    return {}
