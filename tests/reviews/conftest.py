"""Access to the real UPR data in ../shared/data/real (or $UPRTRAX_REAL_DATA); tests skip where it is absent."""

import csv
import io
import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
# UPR Info database exports (sessions 1–20) and the voluntary pledges; all share one header.
UPR_INFO_EXPORTS = ("1-5.csv", "6-9.csv", "10-13.csv", "14-17.csv", "17-20.csv", "voluntary.csv")


def real_data_dir() -> Path:
    return Path(os.environ.get("UPRTRAX_REAL_DATA") or REPO_ROOT.parent / "shared" / "data" / "real")


def _required(name: str) -> Path:
    path = real_data_dir() / name
    if not path.is_file():
        pytest.skip(f"real UPR data not found: {path} (set UPRTRAX_REAL_DATA to the folder holding it)")
    return path


def _mac_csv(path: Path) -> list[dict[str, str]]:
    """UPR Info's exports are Mac Roman with bare CR line endings."""
    with path.open(encoding="mac_roman", newline="") as handle:
        text = handle.read().replace("\r", "\n")
    return list(csv.DictReader(io.StringIO(text)))


@pytest.fixture(scope="session")
def upr_info_rows() -> list[dict[str, str]]:
    """Every row of the UPR Info exports: columns To, To-Rgrp, To-Org, Text, From, ..., Issue, Session."""
    paths = [_required(name) for name in UPR_INFO_EXPORTS]
    return [row for path in paths for row in _mac_csv(path)]


@pytest.fixture(scope="session")
def un_regional_groups_rows() -> list[dict[str, str]]:
    """openclimatedata/countrygroups' list: Code, Name, Region (UTF-8, LF or CRLF)."""
    with _required("un-regional-groups.csv").open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="session")
def upr_session_years() -> dict[int, int]:
    """Session number -> year, sessions 1–53 (CeHDI-Foundation's upr_sessions.csv)."""
    with _required("upr_sessions.csv").open(encoding="utf-8-sig", newline="") as handle:
        return {int(row["session"]): int(row["year"]) for row in csv.DictReader(handle)}
