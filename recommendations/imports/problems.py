"""Problems found while importing: errors block the commit, warnings do not."""

from dataclasses import asdict, dataclass


class ImportFailure(Exception):
    """The file cannot be read at all (empty, binary, too large, corrupt, undecodable, wrong columns)."""

    def __init__(self, message: str, *, column: str = "", value: str = "", row: int | None = None):
        super().__init__(message)
        self.message, self.column, self.value, self.row = message, column, value, row


@dataclass(frozen=True)
class Problem:
    row: int | None  # as the spreadsheet shows it: the header is row 1
    column: str
    value: str
    message: str

    def as_dict(self) -> dict:
        return asdict(self)

    def __str__(self) -> str:
        where = f"row {self.row}" if self.row is not None else "file"
        column = f", column {self.column}" if self.column else ""
        value = f', value "{_short(self.value)}"' if self.value else ""
        return f"{where}{column}{value}: {self.message}"


def _short(value: str, limit: int = 60) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"
