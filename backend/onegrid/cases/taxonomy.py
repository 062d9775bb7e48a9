"""The case taxonomy and the units cases go to, read from two CSV files a street can edit.

``seed/units.csv`` lists the responsible units a street dispatches to (``code,name,kind,
phone[,party_branch]``): district departments and enterprises, those sunk into the street
included (``kind`` = ``department``, codes ``D01``...), the street's own sections
(``street_office``, codes ``S01``...) and, in a street's own file, its property companies
(``property_company``, codes ``P01``..., with their party branch 物业党支部 when they have
one). Communities and dedicated units are not here: they come from the grids.

``seed/categories.csv`` is the two-level taxonomy (大类 / 小类) of components (部件) and
events (事件). The type codes are national-style, not the official table: 5 digits = a
2-digit major class + a 3-digit minor type, in the manner of GB/T 30428 and GB/T 47678.5.
Event majors start at 01, component majors at 21, so every code is unique across both
kinds (the demo data follow the same rule). Each type names its default department (a unit
code), three time limits (report to filing + dispatch, dispatch to report back, report back
to on-site verification) and three flags: urgent by default (urgent cases run on wall-clock
time), handled by the property company inside a courtyard it manages or has claimed, and
fixable by a grid worker on the spot (自处理).

A time limit is ``<n>min`` (working minutes), ``<n>h`` (working hours), ``<n>wd`` (working
days) or ``<n>cd`` (calendar days, due at 23:59:59 local time on the Nth day).

The readers are pure Python (no database). They check every row and raise one
:class:`SeedError` listing every problem, one per line, each naming the file, the line, the
field and the reason, so whoever edited the file sees all their mistakes at once. Files are
UTF-8 with or without a byte-order mark (Excel's "CSV UTF-8" writes one). Columns may come
in any order but must all be there, and no others. Values are stripped of surrounding
spaces; rows left entirely empty (Excel writes ``,,,,``) are skipped; a short row has its
missing trailing values empty (so a unit without phone may stop after its kind);
``true``/``false`` are accepted in any letter case because Excel rewrites them as
``TRUE``/``FALSE``. Codes lose their leading zeros when Excel opens the file as numbers:
the message says so.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from onegrid.cases.deadlines import TimeLimit

LIMIT_PATTERN = re.compile(r"^[1-9][0-9]*(min|h|wd|cd)$")
SEED_DIR = Path(__file__).resolve().parent / "seed"
UNITS_FILE = "units.csv"
CATEGORIES_FILE = "categories.csv"

# kind -> code letter; property companies (物业, 红色物业) take cases of the courtyards they
# manage or have claimed
UNIT_KINDS = {"department": "D", "street_office": "S", "property_company": "P"}
CATEGORY_KINDS = ("component", "event")
UNIT_COLUMNS = ("code", "name", "kind", "phone", "party_branch")
OPTIONAL_UNIT_COLUMNS = ("party_branch",)  # files written before it came stay readable
CATEGORY_COLUMNS = (
    "code",
    "major_code",
    "major_name",
    "name",
    "kind",
    "department",
    "file_limit",
    "handle_limit",
    "verify_limit",
    "urgent",
    "property_may_handle",
    "self_handle_allowed",
)
LIMIT_FIELDS = ("file_limit", "handle_limit", "verify_limit")
FLAG_FIELDS = ("urgent", "property_may_handle", "self_handle_allowed")

UNIT_CODE = re.compile(r"^[A-Z][0-9]{2,3}$")
CATEGORY_CODE = re.compile(r"^[0-9]{5}$")
MAJOR_CODE = re.compile(r"^[0-9]{2}$")
PHONE = re.compile(r"^\+?[0-9][0-9 -]{1,19}$")
BOOLEANS = {"true": True, "false": False}
LEADING_ZEROS_HINT = "Excel drops leading zeros: format the column as text"

Row = dict[str, str]
T = TypeVar("T")


class SeedError(ValueError):
    """Every problem found in a seed file, one per line of the message."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


@dataclass(frozen=True)
class UnitSeed:
    """A unit cases are dispatched to: a district department or a section of the street."""

    code: str
    name: str
    kind: str  # department | street_office | property_company
    phone: str | None
    party_branch: str | None = None  # a property company's party branch (物业党支部)


@dataclass(frozen=True)
class CategorySeed:
    """One minor type (小类) with its major class, default department, limits and flags."""

    code: str
    major_code: str
    major_name: str
    name: str
    kind: str  # component | event
    department: str
    file_limit: str
    handle_limit: str
    verify_limit: str
    urgent: bool
    property_may_handle: bool
    self_handle_allowed: bool


class _Problems:
    """Problems found in one file, worded ``<file> line <n>, field <f>: <reason>``."""

    def __init__(self, file: str, columns: Sequence[str]) -> None:
        self.file = file
        self.columns = list(columns)
        self._found: list[tuple[int, int, str]] = []  # (line, column index, message)

    @property
    def items(self) -> list[str]:
        """The messages by line, and within a line in column order."""
        return [message for _, _, message in sorted(self._found, key=lambda p: p[:2])]

    def line(self, line: int, reason: str) -> None:
        self._found.append((line, -1, f"{self.file} line {line}: {reason}"))

    def field(self, line: int, field: str, reason: str) -> None:
        column = self.columns.index(field)
        self._found.append((line, column, f"{self.file} line {line}, field {field}: {reason}"))

    def __len__(self) -> int:
        return len(self._found)


def read_units(path: Path | None = None) -> list[UnitSeed]:
    """The units in ``path`` (default: the packaged ``units.csv``), in file order."""
    path = path if path is not None else SEED_DIR / UNITS_FILE
    return _read(path, UNIT_COLUMNS, _unit_checker, optional=OPTIONAL_UNIT_COLUMNS)


def read_categories(
    path: Path | None = None, unit_codes: set[str] | None = None
) -> list[CategorySeed]:
    """The case types in ``path`` (default: the packaged ``categories.csv``), in file order.

    With ``unit_codes`` (for example the codes from :func:`read_units`), every department
    must be one of them.
    """
    path = path if path is not None else SEED_DIR / CATEGORIES_FILE
    return _read(path, CATEGORY_COLUMNS, lambda problems: _category_checker(problems, unit_codes))


def _read(
    path: Path,
    columns: Sequence[str],
    make_checker: Callable[[_Problems], Callable[[int, Row], T | None]],
    optional: Sequence[str] = (),
) -> list[T]:
    problems = _Problems(path.name, columns)
    rows = _rows(path, columns, problems, optional)
    check = make_checker(problems)
    seeds = [seed for line, row in rows if (seed := check(line, row)) is not None]
    if problems:
        raise SeedError(problems.items)
    return seeds


def _rows(
    path: Path, columns: Sequence[str], problems: _Problems, optional: Sequence[str] = ()
) -> list[tuple[int, Row]]:
    """(line number, values by column) for each non-empty row; header problems stop here.
    An `optional` column may be left out of the file: its values are then empty."""
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        problems.line(line, "the file is not UTF-8 text (in Excel, save as 'CSV UTF-8')")
        return []
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if header is None:
        problems.line(1, f"the file is empty; expected the header {','.join(columns)}")
        return []
    header = [name.strip() for name in header]
    for name in sorted({name for name in header if header.count(name) > 1}):
        problems.line(1, f"column {name!r} appears more than once")
    missing = [name for name in columns if name not in header and name not in optional]
    unknown = [name for name in header if name not in columns]
    if missing:
        problems.line(1, f"missing column(s) {', '.join(missing)}")
    if unknown:
        problems.line(1, f"unknown column(s) {', '.join(repr(n) for n in unknown)}")
    if problems:
        problems.line(1, f"expected the columns {','.join(columns)}")
        return []
    rows: list[tuple[int, Row]] = []
    for values in reader:
        line = reader.line_num
        values = [value.strip() for value in values]
        if not any(values):
            continue
        if len(values) > len(header):
            problems.line(
                line, f"{len(values)} values, expected {len(header)} ({','.join(header)})"
            )
            continue
        values += [""] * (len(header) - len(values))  # short rows: the rest are empty
        rows.append(
            (line, {**dict.fromkeys(optional, ""), **dict(zip(header, values, strict=True))})
        )
    if not rows and not problems:
        problems.line(2, "no rows after the header")
    return rows


def _unit_checker(problems: _Problems) -> Callable[[int, Row], UnitSeed | None]:
    first_line_of_code: dict[Hashable, int] = {}
    first_line_of_name: dict[Hashable, int] = {}

    def check(line: int, row: Row) -> UnitSeed | None:
        before = len(problems)
        code, name, kind, phone = row["code"], row["name"], row["kind"], row["phone"]
        branch = row["party_branch"]
        _required(problems, line, row, ("code", "name", "kind"))
        if code:
            if not UNIT_CODE.match(code):
                problems.field(
                    line,
                    "code",
                    f"'{code}' is not a unit code (a capital letter and 2-3 digits: "
                    "D01 for a department, S01 for a street office)",
                )
            elif kind in UNIT_KINDS and code[0] != UNIT_KINDS[kind]:
                problems.field(
                    line,
                    "code",
                    f"'{code}' does not fit kind {kind} (codes of a {kind} start with "
                    f"{UNIT_KINDS[kind]})",
                )
            _once(problems, line, "code", code, first_line_of_code)
        if name:
            _once(problems, line, "name", name, first_line_of_name)
        if kind and kind not in UNIT_KINDS:
            problems.field(line, "kind", f"'{kind}' is not {' or '.join(UNIT_KINDS)}")
        if phone and not PHONE.match(phone):
            problems.field(line, "phone", f"'{phone}' is not a phone number (digits, - or spaces)")
        if branch and kind != "property_company":
            problems.field(
                line, "party_branch", "a party branch is recorded for property companies only"
            )
        if len(problems) > before:
            return None
        return UnitSeed(
            code=code, name=name, kind=kind, phone=phone or None, party_branch=branch or None
        )

    return check


def _category_checker(
    problems: _Problems, unit_codes: set[str] | None
) -> Callable[[int, Row], CategorySeed | None]:
    first_line_of_code: dict[Hashable, int] = {}
    first_line_of_name: dict[Hashable, int] = {}
    major_names: dict[str, tuple[int, str]] = {}  # major_code -> (first line, major_name)
    major_kinds: dict[str, tuple[int, str]] = {}  # major_code -> (first line, kind)

    def check(line: int, row: Row) -> CategorySeed | None:
        before = len(problems)
        _required(problems, line, row, CATEGORY_COLUMNS)
        code, major_code, major_name = row["code"], row["major_code"], row["major_name"]
        name, kind, department = row["name"], row["kind"], row["department"]

        if code:
            if not CATEGORY_CODE.match(code):
                problems.field(
                    line,
                    "code",
                    f"'{code}' is not a 5-digit type code (2-digit major + 3-digit minor)"
                    + _zeros_hint(code, 5),
                )
            _once(problems, line, "code", code, first_line_of_code)
        major_ok = bool(MAJOR_CODE.match(major_code))
        if major_code and not major_ok:
            problems.field(
                line,
                "major_code",
                f"'{major_code}' is not a 2-digit major code" + _zeros_hint(major_code, 2),
            )
        if major_ok and CATEGORY_CODE.match(code) and not code.startswith(major_code):
            problems.field(
                line, "code", f"'{code}' does not start with its major_code '{major_code}'"
            )
        if kind and kind not in CATEGORY_KINDS:
            problems.field(line, "kind", f"'{kind}' is not {' or '.join(CATEGORY_KINDS)}")
        if major_ok and major_name:
            first_line, first_name = major_names.setdefault(major_code, (line, major_name))
            if major_name != first_name:
                problems.field(
                    line,
                    "major_name",
                    f"'{major_name}' differs from '{first_name}' given for major {major_code} "
                    f"on line {first_line}",
                )
        if major_ok and kind in CATEGORY_KINDS:
            first_line, first_kind = major_kinds.setdefault(major_code, (line, kind))
            if kind != first_kind:
                problems.field(
                    line,
                    "kind",
                    f"'{kind}' differs from '{first_kind}' given for major {major_code} "
                    f"on line {first_line} (a major class holds one kind)",
                )
        if name and major_ok:
            _once(problems, line, "name", name, first_line_of_name, key=(major_code, name))
        if department:  # a known code is valid whatever its shape (stored units too)
            if unit_codes is not None:
                if department not in unit_codes:
                    problems.field(line, "department", f"'{department}' is not a unit in units.csv")
            elif not UNIT_CODE.match(department):
                problems.field(
                    line, "department", f"'{department}' is not a unit code such as D01 or S01"
                )
        for field in LIMIT_FIELDS:
            value = row[field]
            if value and not LIMIT_PATTERN.match(value):
                problems.field(
                    line,
                    field,
                    f"'{value}' is not a time limit (use 30min, 6h, 1wd or 1cd)",
                )
            elif value:
                try:
                    TimeLimit.parse(value)
                except ValueError as exc:  # e.g. longer than a year
                    problems.field(line, field, str(exc))
        flags: dict[str, bool] = {}
        for field in FLAG_FIELDS:
            value = row[field]
            flag = BOOLEANS.get(value.lower())
            if flag is None:
                if value:
                    problems.field(line, field, f"'{value}' is not true or false")
            else:
                flags[field] = flag

        if len(problems) > before:
            return None
        return CategorySeed(
            code=code,
            major_code=major_code,
            major_name=major_name,
            name=name,
            kind=kind,
            department=department,
            file_limit=row["file_limit"],
            handle_limit=row["handle_limit"],
            verify_limit=row["verify_limit"],
            urgent=flags["urgent"],
            property_may_handle=flags["property_may_handle"],
            self_handle_allowed=flags["self_handle_allowed"],
        )

    return check


def _required(problems: _Problems, line: int, row: Row, fields: Sequence[str]) -> bool:
    """Report each empty field of ``fields``; True when all are filled."""
    empty = [field for field in fields if not row[field]]
    for field in empty:
        problems.field(line, field, "required, but empty")
    return not empty


def _once(
    problems: _Problems,
    line: int,
    field: str,
    value: str,
    seen: dict[Hashable, int],
    key: Hashable | None = None,
) -> None:
    """Report ``value`` when its key (default: the value) was seen on an earlier line."""
    where = "" if key is None else "in this major class "
    key = value if key is None else key
    if key in seen:
        problems.field(
            line, field, f"duplicate {field} '{value}' {where}(first on line {seen[key]})"
        )
    else:
        seen[key] = line


def _zeros_hint(value: str, digits: int) -> str:
    return f" ({LEADING_ZEROS_HINT})" if value.isdigit() and len(value) < digits else ""
