"""A file -> header and a stream of rows of strings, for CSV (any common encoding, any line ending) and XLSX."""

import codecs
import csv
import io
import itertools
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO

from recommendations.imports.problems import ImportFailure
from recommendations.imports.runs import Source, SourceFile, source_open

# A zip bomb guard for XLSX, checked on the zip's directory before openpyxl reads anything.
XLSX_MAX_UNCOMPRESSED = 500 * 1024 * 1024
XLSX_MAX_RATIO = 200

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


def table_open(*, source: SourceFile, file_name: str, encoding: str | None = None, sheet: str | None = None) -> Table:
    """The header, and the rows as a stream: the file is read as the rows are consumed, never whole."""
    head = source.head(64 * 1024)
    if not head.strip() and source.size <= len(head):
        raise ImportFailure("The file is empty.")
    if is_xlsx(head, file_name):
        return _xlsx_read(source.file, sheet)
    name = encoding_detect(source.file, encoding)
    # A detected encoding decodes the whole file (encoding_detect read it all). One the admin chose may fail on
    # some byte: decode with surrogateescape and look for the escapes row by row, so that the error names the row.
    errors = "surrogateescape" if encoding else "strict"
    text = io.TextIOWrapper(source.file, encoding=name, errors=errors, newline="")
    return _csv_read(text, name, check=bool(encoding))


def table_read(*, data: bytes, file_name: str, encoding: str | None = None, sheet: str | None = None) -> Table:
    """table_open for bytes in memory."""
    return table_open(source=source_open(data), file_name=file_name, encoding=encoding, sheet=sheet)


def table_preview(
    *, source: Source, file_name: str, encoding: str | None = None, sheet: str | None = None, rows: int = 5
) -> Table:
    """The header and the first `rows` data rows (Table.sample), for a mapping editor; raises ImportFailure."""
    table = table_open(source=source_open(source), file_name=file_name, encoding=encoding, sheet=sheet)
    table.sample = [cells for _, cells in itertools.islice(table.rows, rows)]
    return table


def is_xlsx(head: bytes, file_name: str) -> bool:
    return head[:4] == b"PK\x03\x04" or file_name.lower().endswith((".xlsx", ".xlsm"))


# --- CSV -----------------------------------------------------------------------------------------------------------


def encoding_detect(file: IO[bytes], encoding: str | None = None) -> str:
    """The given encoding (checked to exist), or the detected one: BOM, UTF-16 without BOM, UTF-8 if the whole
    file decodes as UTF-8, else Windows-1252 or Mac Roman by _legacy_guess. Reads the file once in chunks, so a
    file of any size is checked in bounded memory; leaves it at the start."""
    file.seek(0)
    head = file.read(4096)
    file.seek(0)
    if encoding:
        try:
            name = codecs.lookup(encoding).name
        except LookupError as exc:
            raise ImportFailure(f'Unknown encoding "{encoding}".', value=encoding) from exc
        return "utf-8-sig" if name == "utf-8" and head.startswith(codecs.BOM_UTF8) else encoding
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if head.count(b"\x00") > len(head) // 4:
        # UTF-16 without BOM: ASCII text puts NULs at every other byte.
        even, odd = head[0::2].count(0), head[1::2].count(0)
        return "utf-16-le" if odd > even else "utf-16-be"
    utf8 = codecs.getincrementaldecoder("utf-8")()
    is_utf8, cp1252_undefined, sample = True, False, bytearray()
    while chunk := file.read(1024 * 1024):
        if b"\x00" in chunk:
            file.seek(0)
            raise ImportFailure("The file looks binary (it holds NUL bytes): neither CSV nor XLSX.")
        if is_utf8:
            try:
                utf8.decode(chunk)
            except UnicodeDecodeError:
                is_utf8 = False
        if not is_utf8:
            cp1252_undefined = cp1252_undefined or _CP1252_UNDEFINED.search(chunk) is not None
            if len(sample) < _LEGACY_SAMPLE:
                sample += chunk
    file.seek(0)
    if is_utf8:
        try:
            utf8.decode(b"", final=True)
            return "utf-8"
        except UnicodeDecodeError:
            pass  # the file ends inside a UTF-8 sequence: not UTF-8 (or truncated)
    if cp1252_undefined:
        return "mac_roman"  # Windows-1252 leaves 0x81, 0x8D, 0x8F, 0x90 and 0x9D undefined
    return _legacy_guess(bytes(sample))


def text_decode(data: bytes, encoding: str | None = None) -> tuple[str, str]:
    """Bytes in memory -> (text, encoding used), with encoding_detect's rules."""
    name = encoding_detect(io.BytesIO(data), encoding)
    try:
        return data.decode(name), name
    except UnicodeDecodeError as exc:
        raise ImportFailure(
            f"The file is not valid {name}: byte 0x{data[exc.start]:02X} at offset {exc.start}.", value=name
        ) from exc


_CP1252_UNDEFINED = re.compile(rb"[\x81\x8d\x8f\x90\x9d]")
_NON_ASCII = re.compile(r"[^\x00-\x7f]")
_LEGACY_SAMPLE = 4 * 1024 * 1024


def _legacy_guess(data: bytes) -> str:
    """Windows-1252 or Mac Roman: both decode any byte, so score how word-like each reading is.

    A documented and imperfect heuristic: a non-ASCII character scores +1 when it is a lower-case letter inside
    or at the end of a word (accents: "Guaraní", "é"), or, in Windows-1252, a curly quote, dash or ellipsis; it
    scores -1 when it is an upper-case letter or a symbol right after a lower-case ASCII letter (Mac Roman reads
    Windows' é = 0xE9 as "È"; Windows reads Mac's é = 0x8E as "Ž" and í = 0x92 as "’"). Ties go to
    Windows-1252. UPR Info's exports come out as Mac Roman. (A byte Windows-1252 leaves undefined decides for
    Mac Roman before this is asked.)
    """
    scores = {}
    for name in ("cp1252", "mac_roman"):
        text = data.decode(name)
        score = 0
        for match in _NON_ASCII.finditer(text):
            i, ch = match.start(), match.group()
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


_ESCAPED = re.compile("[\udc80-\udcff]")


def _csv_read(text: IO[str], encoding: str, *, check: bool = False) -> Table:
    # newline="" keeps CR, LF and CRLF for the csv module, which treats all three (and bare CR) as line ends.
    reader = csv.reader(text, strict=True)
    try:
        header = next(reader)
    except StopIteration:
        raise ImportFailure("The file is empty.") from None
    except csv.Error as exc:
        raise ImportFailure(f"The file is not readable CSV: {exc}.", row=1) from exc
    except UnicodeDecodeError as exc:
        raise _undecodable(exc, encoding, 1) from exc
    if check:
        _decoded_check(header, encoding, 1)
    header = [h.strip() for h in header]
    if not any(header):
        raise ImportFailure("The first row (the header) is empty.", row=1)

    def rows() -> Iterator[tuple[int, list[str]]]:
        try:
            for cells in reader:
                if check:
                    _decoded_check(cells, encoding, reader.line_num)
                if any(c.strip() for c in cells):
                    yield reader.line_num, cells
        except csv.Error as exc:
            raise ImportFailure(
                f"The file is not readable CSV near line {reader.line_num}: {exc} (truncated file?)",
                row=reader.line_num,
            ) from exc
        except UnicodeDecodeError as exc:
            raise _undecodable(exc, encoding, reader.line_num + 1) from exc

    return Table(header=header, rows=rows(), encoding=encoding)


def _decoded_check(cells: list[str], encoding: str, line: int) -> None:
    for cell in cells:
        if match := _ESCAPED.search(cell):
            raise ImportFailure(
                f"The file is not valid {encoding}: byte 0x{ord(match.group()) - 0xDC00:02X} on line {line}. "
                "Choose its encoding.",
                row=line,
                value=encoding,
            )


def _undecodable(exc: UnicodeDecodeError, encoding: str, line: int) -> ImportFailure:
    byte = exc.object[exc.start] if exc.start < len(exc.object) else 0
    return ImportFailure(
        f"The file is not valid {encoding}: byte 0x{byte:02X} near line {line}. Choose its encoding.",
        row=line,
        value=encoding,
    )


# --- XLSX ----------------------------------------------------------------------------------------------------------


def _xlsx_check(file: IO[bytes]) -> None:
    try:
        archive = zipfile.ZipFile(file)
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


def _xlsx_read(file: IO[bytes], sheet: str | None) -> Table:
    import openpyxl

    _xlsx_check(file)
    file.seek(0)
    try:
        # read_only streams the sheet; formulas come back as their text ("=1+2"), never evaluated.
        book = openpyxl.load_workbook(file, read_only=True, data_only=False)
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
