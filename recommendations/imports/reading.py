"""Bytes -> header and rows of strings, for CSV (any common encoding, any line ending) and XLSX."""

import codecs
import csv
import io
import itertools
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field

from recommendations.imports.problems import ImportFailure

# A zip bomb guard for XLSX, checked on the zip's directory before openpyxl reads anything.
XLSX_MAX_UNCOMPRESSED = 500 * 1024 * 1024
XLSX_MAX_RATIO = 200

_UTF16_BOMS = ((codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
# Windows-1252 punctuation a text in that encoding plausibly holds in 0x80-0x9F (curly quotes, dashes, ellipsis).
_CP1252_PUNCTUATION = set("‘’“”–—…€•")


@dataclass
class Table:
    header: list[str]
    rows: Iterator[tuple[int, list[str]]]  # (row number as the spreadsheet shows it, cells)
    encoding: str = ""
    sheet: str = ""
    sheets: list[str] = field(default_factory=list)  # an XLSX workbook's sheet names
    sample: list[list[str]] = field(default_factory=list)  # table_preview's first rows


def table_preview(
    *, source, file_name: str, encoding: str | None = None, sheet: str | None = None, rows: int = 5
) -> Table:
    """The header and the first `rows` data rows (Table.sample), for a mapping editor; raises ImportFailure."""
    from recommendations.imports.runs import source_open

    opened = source_open(source)
    table = table_read(data=opened.file.read(), file_name=file_name, encoding=encoding, sheet=sheet)
    table.sample = [cells for _, cells in itertools.islice(table.rows, rows)]
    return table


def is_xlsx(data: bytes, file_name: str) -> bool:
    return data[:4] == b"PK\x03\x04" or file_name.lower().endswith((".xlsx", ".xlsm"))


def table_read(*, data: bytes, file_name: str, encoding: str | None = None, sheet: str | None = None) -> Table:
    if not data.strip():
        raise ImportFailure("The file is empty.")
    if is_xlsx(data, file_name):
        return _xlsx_read(data, sheet)
    text, used = text_decode(data, encoding)
    return _csv_read(text, used)


# --- CSV -----------------------------------------------------------------------------------------------------------


def text_decode(data: bytes, encoding: str | None = None) -> tuple[str, str]:
    """Decode with the given encoding, or detect it: BOM, UTF-16 without BOM, strict UTF-8, then Windows-1252 vs
    Mac Roman by the heuristic of _legacy_guess."""
    if encoding:
        try:
            return data.decode(encoding), encoding
        except LookupError as exc:
            raise ImportFailure(f'Unknown encoding "{encoding}".', value=encoding) from exc
        except UnicodeDecodeError as exc:
            raise ImportFailure(
                f"The file is not valid {encoding}: byte 0x{data[exc.start]:02X} at offset {exc.start}.", value=encoding
            ) from exc
    if data.startswith(codecs.BOM_UTF8):
        return _strict(data, "utf-8-sig"), "utf-8-sig"
    for bom, name in _UTF16_BOMS:
        if data.startswith(bom):
            return _strict(data, name), name
    sample = data[:4096]
    if sample.count(b"\x00") > len(sample) // 4:
        # UTF-16 without BOM: ASCII text puts NULs at every other byte.
        even, odd = sample[0::2].count(0), sample[1::2].count(0)
        name = "utf-16-le" if odd > even else "utf-16-be"
        return _strict(data, name), name
    if b"\x00" in data:
        raise ImportFailure("The file looks binary (it holds NUL bytes): neither CSV nor XLSX.")
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    name = _legacy_guess(data)
    return data.decode(name), name


def _strict(data: bytes, name: str) -> str:
    try:
        return data.decode(name)
    except UnicodeDecodeError as exc:
        raise ImportFailure(f"The file could not be decoded as {name} (byte offset {exc.start}).") from exc


def _legacy_guess(data: bytes) -> str:
    """Windows-1252 or Mac Roman: both decode any byte, so score how word-like each reading is.

    A byte Windows-1252 leaves undefined decides for Mac Roman. Otherwise, a documented and imperfect heuristic:
    a non-ASCII character scores +1 when it is a lower-case letter inside or at the end of a word (accents:
    "Guaraní", "é"), or, in Windows-1252, a curly quote, dash or ellipsis; it scores -1 when it is an upper-case
    letter or a symbol right after a lower-case ASCII letter (Mac Roman reads Windows' é = 0xE9 as "È"; Windows
    reads Mac's é = 0x8E as "Ž" and í = 0x92 as "’"). Ties go to Windows-1252. UPR Info's exports come out as
    Mac Roman.
    """
    try:
        data.decode("cp1252")
    except UnicodeDecodeError:
        return "mac_roman"  # Windows-1252 leaves 0x81, 0x8D, 0x8F, 0x90 and 0x9D undefined
    scores = {}
    for name in ("cp1252", "mac_roman"):
        text = data.decode(name)
        score = 0
        for i, ch in enumerate(text):
            if ch < "\x80":
                continue
            before = text[i - 1] if i else " "
            after = text[i + 1] if i + 1 < len(text) else " "
            accented_letter = ch.islower() and ch.isalpha() and (before.isalpha() or after.isalpha())
            punctuation = name == "cp1252" and ch in _CP1252_PUNCTUATION and not (ch == "’" and not after.isalpha())
            if accented_letter or punctuation:
                score += 1
            elif before.islower() and before.isascii() and (ch.isupper() or not ch.isalpha()):
                score -= 1
        scores[name] = score
    return "mac_roman" if scores["mac_roman"] > scores["cp1252"] else "cp1252"


def _csv_read(text: str, encoding: str) -> Table:
    # newline="" keeps CR, LF and CRLF for the csv module, which treats all three (and bare CR) as line ends.
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader)
    except StopIteration:
        raise ImportFailure("The file is empty.") from None
    except csv.Error as exc:
        raise ImportFailure(f"The file is not readable CSV: {exc}.", row=1) from exc
    header = [h.strip() for h in header]
    if not any(header):
        raise ImportFailure("The first row (the header) is empty.", row=1)

    def rows() -> Iterator[tuple[int, list[str]]]:
        try:
            for cells in reader:
                if any(c.strip() for c in cells):
                    yield reader.line_num, cells
        except csv.Error as exc:
            raise ImportFailure(
                f"The file is not readable CSV near line {reader.line_num}: {exc} (truncated file?)",
                row=reader.line_num,
            ) from exc

    return Table(header=header, rows=rows(), encoding=encoding)


# --- XLSX ----------------------------------------------------------------------------------------------------------


def _xlsx_check(data: bytes) -> None:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, ValueError, EOFError) as exc:
        raise ImportFailure("The XLSX file is corrupt or truncated (not a readable zip archive).") from exc
    total = sum(info.file_size for info in infos)
    if total > XLSX_MAX_UNCOMPRESSED:
        raise ImportFailure(
            f"The XLSX file would unpack to {total:,} bytes, over the limit of {XLSX_MAX_UNCOMPRESSED:,}."
        )
    for info in infos:
        if info.file_size > 1024 * 1024 and info.file_size > XLSX_MAX_RATIO * max(info.compress_size, 1):
            ratio = info.file_size // max(info.compress_size, 1)
            raise ImportFailure(
                f"The XLSX file looks like a zip bomb: {info.filename} expands {ratio} times (limit {XLSX_MAX_RATIO})."
            )
    if "xl/workbook.xml" not in {info.filename for info in infos}:
        raise ImportFailure("The zip archive is not an XLSX workbook (no xl/workbook.xml).")


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _xlsx_read(data: bytes, sheet: str | None) -> Table:
    import openpyxl

    _xlsx_check(data)
    try:
        # read_only streams the sheet; formulas come back as their text ("=1+2"), never evaluated.
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception as exc:  # openpyxl raises many kinds on a damaged workbook
        raise ImportFailure(f"The XLSX file is corrupt: {exc}.") from exc
    if sheet:
        if sheet not in book.sheetnames:
            raise ImportFailure(f'No sheet "{sheet}"; the sheets are: {", ".join(book.sheetnames)}.', value=sheet)
        worksheet = book[sheet]
    else:
        worksheet = book.worksheets[0]
    values = worksheet.iter_rows(values_only=True)
    try:
        header_cells = next(values)
    except StopIteration:
        raise ImportFailure("The sheet is empty.") from None
    header = [_cell_text(c).strip() for c in header_cells]
    while header and not header[-1]:
        header.pop()
    if not header:
        raise ImportFailure("The first row (the header) is empty.", row=1)

    def rows() -> Iterator[tuple[int, list[str]]]:
        for number, cells in enumerate(values, start=2):
            texts = [_cell_text(c) for c in cells]
            if any(t.strip() for t in texts):
                yield number, texts

    return Table(header=header, rows=rows(), sheet=worksheet.title, sheets=list(book.sheetnames))
