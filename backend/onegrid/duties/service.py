"""Who does what where: the responsibility list (事项清单) and where its items apply, the people
who work in each grid (网格长, 专职/兼职网格员, 下沉人员, 社区民警, 网格指导员) and the grids the
district departments sunk into the street serve."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from onegrid.auth import repository as auth_repo
from onegrid.auth.actor import Actor
from onegrid.auth.scope import STAFF, Scope, scope_of
from onegrid.cases.deadlines import TimeLimit
from onegrid.duties import repository as repo
from onegrid.duties.models import RESPONSIBLE_LEVELS, STAFF_DUTIES
from onegrid.errors import Conflict, Forbidden, GridNotFound, InvalidInput, NotFound
from onegrid.ingest.report import ImportReport

# Who may change the list, and who the staff of a grid (the street everywhere; a community's
# staff in their own community).
ITEM_EDITORS = frozenset({"street_admin"})
STAFF_EDITORS = frozenset({"street_admin", "community_staff"})
UNIT_GRID_EDITORS = frozenset({"street_admin"})
# Phones are personal data: the street office, and community staff and grid leaders for the
# grids of their own subtree (the only ones they see).
PHONE_READERS = frozenset({"street_admin", "street_dispatcher", "community_staff", "grid_leader"})
# Sunk staff (下沉人员) and the units sunk into grids are the district's departments.
SUNK_UNIT_KINDS = ("department",)


def _require(actor: Actor, roles: frozenset[str], doing: str) -> None:
    if actor.role not in roles:
        raise Forbidden(f"a {actor.role} may not {doing}")


def _blank_to_none(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    return value or None


# --- responsibility items ---------------------------------------------------------------------


@dataclass(frozen=True)
class Known:
    """What the checks of an item compare against, looked up once for a whole file."""

    unit_kinds: dict[str, str]
    categories: set[str]
    grids: set[str]


def _known(session: Session, rows: list[dict[str, Any]]) -> Known:
    units = {r.get("department_code") for r in rows} | {u for r in rows for u in r.get("units", ())}
    return Known(
        unit_kinds=repo.unit_kinds(session, sorted(u for u in units if u)),
        categories=repo.category_codes(
            session, sorted({c for r in rows if (c := r.get("category_code"))})
        ),
        grids=repo.current_grid_codes(
            session, sorted({g for r in rows for g in r.get("grids", ())})
        ),
    )


Problems = list[tuple[str, str]]  # (field, reason)


def _item_problems(item: dict[str, Any], known: Known) -> tuple[dict[str, Any], Problems]:
    """The item with its values tidied (a time limit in its canonical form), and every
    (field, reason) that stops it being stored."""
    problems: list[tuple[str, str]] = []
    tidy = dict(item)
    for field in ("code", "name"):
        tidy[field] = _blank_to_none(item.get(field))
        if tidy[field] is None:
            problems.append((field, f"{field} is empty"))
    level = item.get("responsible_level")
    if level not in RESPONSIBLE_LEVELS:
        problems.append(
            (
                "responsible_level",
                f"unknown level {level!r}; expected one of {', '.join(RESPONSIBLE_LEVELS)}",
            )
        )
    limit = _blank_to_none(item.get("time_limit"))
    if limit is not None:
        try:
            limit = str(TimeLimit.parse(limit))
        except ValueError as exc:
            problems.append(("time_limit", str(exc)))
    tidy["time_limit"] = limit
    category = tidy["category_code"] = _blank_to_none(item.get("category_code"))
    if category is not None and category not in known.categories:
        problems.append(("category_code", f"no case category {category!r} (GET /api/categories)"))
    department = tidy["department_code"] = _blank_to_none(item.get("department_code"))
    if level == "department":
        kind = known.unit_kinds.get(department or "")
        if department is None:
            problems.append(
                ("department_code", "an item at the department level needs department_code")
            )
        elif kind is None:
            problems.append(("department_code", f"no active unit {department!r}"))
        elif kind not in SUNK_UNIT_KINDS:
            problems.append(("department_code", f"unit {department} is a {kind}, not a department"))
    elif department is not None and level in RESPONSIBLE_LEVELS:
        problems.append(
            (
                "department_code",
                f"an item at the {level} level names no department: leave department_code"
                " empty (or make the level department)",
            )
        )
    return tidy, problems


def _refuse_nulls(changes: dict[str, Any], fields: tuple[str, ...], what: str) -> None:
    """A PATCH may clear optional fields with null, never these."""
    for field in fields:
        if field in changes and changes[field] is None:
            raise InvalidInput(f"{what}: {field} cannot be null", field=field)


def _first_problem(problems: list[tuple[str, str]], code: str | None) -> None:
    if problems:
        field, reason = problems[0]
        about = f"responsibility item {code}: " if code else ""
        raise InvalidInput(about + reason, field=field)


def _read_item(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        **{k: row[k] for k in repo.ITEM_FIELDS},
        "active": row["active"],
        "grid_codes": list(row["grid_codes"]),
        "unit_codes": list(row["unit_codes"]),
        "applies_via": list(row["applies_via"]) if "applies_via" in row else None,
    }


def list_items(
    session: Session,
    *,
    actor: Actor,
    level: str | None = None,
    grid: str | None = None,
    unit: str | None = None,
    include_inactive: bool = False,
) -> list[dict[str, Any]]:
    """The responsibility list. Every staff member reads the whole list (it names no person
    or place); the grids an item is attached to are shown as far as the reader sees grids.
    `grid`: the items that apply there (attached to it or to a grid above it)."""
    _require(actor, STAFF, "read the responsibility list")
    scope = scope_of(actor)
    if grid is not None and not repo.grid_seen(session, scope, grid):
        raise GridNotFound(f"no grid with code {grid!r}", field="grid")
    rows = repo.list_items(
        session,
        scope=scope,
        level=level,
        grid=grid,
        unit=unit,
        include_inactive=include_inactive,
    )
    return [_read_item(r) for r in rows]


def _item(session: Session, code: str, *, lock: bool = False) -> dict[str, Any]:
    row = repo.get_item(session, code, lock=lock)
    if row is None:
        raise NotFound(f"no responsibility item with code {code!r}", field="code")
    return row


def _one_item(session: Session, code: str, actor: Actor) -> dict[str, Any]:
    rows = repo.list_items(session, scope=scope_of(actor), code=code, include_inactive=True)
    return _read_item(rows[0])


def create_item(session: Session, body: dict[str, Any], *, actor: Actor) -> dict[str, Any]:
    """A new item on the list (409 when its code is taken)."""
    _require(actor, ITEM_EDITORS, "change the responsibility list")
    item, problems = _item_problems(body, _known(session, [body]))
    _first_problem(problems, body.get("code"))
    values = {k: item.get(k) for k in repo.ITEM_FIELDS}
    if repo.insert_item(session, values) is None:
        raise Conflict(f"responsibility item {item['code']} exists already", field="code")
    _audit(session, actor, "responsibility_item_created", item["code"], values)
    return _one_item(session, item["code"], actor)


def change_item(
    session: Session, code: str, changes: dict[str, Any], *, actor: Actor
) -> dict[str, Any]:
    """Change the fields sent (`active: false` takes the item off the list)."""
    _require(actor, ITEM_EDITORS, "change the responsibility list")
    _refuse_nulls(
        changes,
        ("name", "responsible_level", "on_the_spot", "active"),
        f"responsibility item {code}",
    )
    current = _item(session, code, lock=True)
    merged = {**current, **changes}
    item, problems = _item_problems(merged, _known(session, [merged]))
    _first_problem(problems, code)
    stored = {k: item[k] for k in changes if item[k] != current[k]}
    repo.update_item(session, current["id"], stored)
    if stored:
        _audit(session, actor, "responsibility_item_changed", code, stored)
    return _one_item(session, code, actor)


def attach_item(
    session: Session,
    code: str,
    *,
    grid_code: str | None,
    unit_code: str | None,
    actor: Actor,
) -> dict[str, Any]:
    """Attach the item to a grid (by code: codes outlive boundary versions) or a unit."""
    _require(actor, ITEM_EDITORS, "change the responsibility list")
    item = _item(session, code, lock=True)
    if grid_code is not None and not repo.current_grid_codes(session, [grid_code]):
        raise InvalidInput(f"no current grid with code {grid_code!r}", field="grid_code")
    if unit_code is not None and not repo.unit_kinds(session, [unit_code]):
        raise InvalidInput(f"no active unit with code {unit_code!r}", field="unit_code")
    if not repo.attach(session, item["id"], grid_code=grid_code, unit_code=unit_code):
        where = f"grid {grid_code}" if grid_code is not None else f"unit {unit_code}"
        raise Conflict(f"responsibility item {code} is attached to {where} already")
    _audit(
        session,
        actor,
        "responsibility_item_attached",
        code,
        {"grid_code": grid_code, "unit_code": unit_code},
    )
    return _one_item(session, code, actor)


def detach_item(
    session: Session,
    code: str,
    *,
    grid_code: str | None,
    unit_code: str | None,
    actor: Actor,
) -> None:
    """Detach the item from a grid or a unit (404 when it is not attached there)."""
    _require(actor, ITEM_EDITORS, "change the responsibility list")
    if (grid_code is None) == (unit_code is None):
        raise InvalidInput("give exactly one of grid_code and unit_code", field="grid_code")
    item = _item(session, code, lock=True)
    if not repo.detach(session, item["id"], grid_code=grid_code, unit_code=unit_code):
        where = f"grid {grid_code}" if grid_code is not None else f"unit {unit_code}"
        raise NotFound(f"responsibility item {code} is not attached to {where}")
    _audit(
        session,
        actor,
        "responsibility_item_detached",
        code,
        {"grid_code": grid_code, "unit_code": unit_code},
    )


# --- the CSV import -----------------------------------------------------------------------------

# The columns of a responsibility-list file, and the names a street's own ledger may give them.
ITEM_COLUMNS = {
    "code": ("事项编码", "编码"),
    "name": ("事项名称", "名称"),
    "responsible_level": ("责任层级", "层级"),
    "on_the_spot": ("现场处置", "随手办"),
    "time_limit": ("办理时限", "时限"),
    "category_code": ("事件类型编码", "类型编码"),
    "department_code": ("责任部门", "部门编码"),
    "grids": ("网格", "网格编码"),
    "units": ("单位", "单位编码"),
}
REQUIRED_COLUMNS = ("code", "name", "responsible_level")
LEVEL_WORDS = {"网格": "grid", "社区": "community", "街道": "street", "部门": "department"}
YES = {"true", "yes", "y", "1", "是", "√"}
NO = {"false", "no", "n", "0", "否", "", "×"}
LIST_SEPARATORS = (";", "；", "|", "、")


def _column_names(header: list[str]) -> dict[str, str]:
    """file column -> field; InvalidInput for an unknown, repeated or missing column."""
    by_alias = {alias: field for field, aliases in ITEM_COLUMNS.items() for alias in aliases}
    by_alias.update({field: field for field in ITEM_COLUMNS})
    fields: dict[str, str] = {}
    for name in header:
        field = by_alias.get(name)
        if field is None:
            raise InvalidInput(
                f"line 1: unknown column {name!r}; the columns are {', '.join(ITEM_COLUMNS)}",
                field=name,
            )
        if field in fields.values():
            raise InvalidInput(f"line 1: column {field!r} appears more than once", field=field)
        fields[name] = field
    missing = [f for f in REQUIRED_COLUMNS if f not in fields.values()]
    if missing:
        raise InvalidInput(f"line 1: missing column(s) {', '.join(missing)}", field=missing[0])
    return fields


def _split_codes(text: str) -> list[str]:
    for sep in LIST_SEPARATORS[1:]:
        text = text.replace(sep, LIST_SEPARATORS[0])
    return [code.strip() for code in text.split(LIST_SEPARATORS[0]) if code.strip()]


def _read_item_rows(data: bytes) -> list[tuple[int, dict[str, Any]]]:
    """(first line of the row, values by field) for each row that is not empty."""
    try:
        text = data.decode("utf-8-sig")  # with or without the BOM Excel writes
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise InvalidInput(
            f"line {line}: the file is not UTF-8 text (in Excel, save as 'CSV UTF-8')"
        ) from exc
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if not header:
        raise InvalidInput(f"the file is empty; expected a header such as {','.join(ITEM_COLUMNS)}")
    names = [name.strip() for name in header]
    fields = _column_names(names)
    rows: list[tuple[int, dict[str, Any]]] = []
    line = reader.line_num + 1
    for values in reader:
        first_line, line = line, reader.line_num + 1  # a quoted value may span lines
        values = [v.strip() for v in values]
        if not any(values):
            continue
        if len(values) > len(names):
            rows.append((first_line, {"_problem": f"{len(values)} values, {len(names)} columns"}))
            continue
        values += [""] * (len(names) - len(values))
        rows.append((first_line, {fields[n]: v for n, v in zip(names, values, strict=True)}))
    return rows


def _parse_row(raw: dict[str, Any]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """The file's text as the values an item takes (level words, yes/no, code lists)."""
    problems: list[tuple[str, str]] = []
    level = raw.get("responsible_level", "").strip()
    spot = raw.get("on_the_spot", "").strip().lower()
    if spot not in YES | NO:
        problems.append(("on_the_spot", f"{spot!r} is not yes or no (true/false, 是/否, 1/0)"))
    return {
        "code": raw.get("code"),
        "name": raw.get("name"),
        "responsible_level": LEVEL_WORDS.get(level, level.lower()),
        "on_the_spot": spot in YES,
        "time_limit": raw.get("time_limit"),
        "category_code": raw.get("category_code"),
        "department_code": raw.get("department_code"),
        "grids": _split_codes(raw.get("grids", "")),
        "units": _split_codes(raw.get("units", "")),
    }, problems


def import_items(session: Session, path: Path) -> ImportReport:
    """Upsert the items of a responsibility-list CSV (by code) and attach them to the grids and
    units it names, in the caller's transaction; every bad row is rejected with its line and
    field. Attachments already stored stay; an item in the file is active again."""
    rows = _read_item_rows(path.read_bytes())
    report = ImportReport(
        kind="responsibility_items", source=str(path), crs="none (no coordinates)", read=len(rows)
    )
    parsed: list[tuple[int, dict[str, Any], list[tuple[str, str]]]] = []
    for line, raw in rows:
        if "_problem" in raw:
            parsed.append((line, {}, [("row", raw["_problem"])]))
        else:
            item, problems = _parse_row(raw)
            parsed.append((line, item, problems))
    known = _known(session, [item for _, item, _ in parsed])
    first_line: dict[str, int] = {}
    accepted: list[dict[str, Any]] = []
    for index, (line, item, early) in enumerate(parsed, start=1):
        tidy: dict[str, Any] = {}
        if not item:
            problems = early
        else:
            tidy, problems = _item_problems(item, known)
            problems = early + problems
            for grid in item["grids"]:
                if grid not in known.grids:
                    problems.append(("grids", f"no current grid with code {grid!r}"))
            for unit in item["units"]:
                if unit not in known.unit_kinds:
                    problems.append(("units", f"no active unit with code {unit!r}"))
            code = tidy.get("code")
            if code is not None and code in first_line:
                problems.append(("code", f"code {code} is on line {first_line[code]} already"))
            elif code is not None:
                first_line[code] = line
        for field, reason in problems:
            report.reject(index, reason, field=field, code=tidy.get("code"), row=line)
        if not problems:
            accepted.append(tidy)
    new = updated = attached = 0
    for item in accepted:
        item_id, inserted = repo.upsert_item(session, {k: item[k] for k in repo.ITEM_FIELDS})
        new, updated = new + inserted, updated + (not inserted)
        for grid in item["grids"]:
            attached += repo.attach(session, item_id, grid_code=grid, unit_code=None)
        for unit in item["units"]:
            attached += repo.attach(session, item_id, grid_code=None, unit_code=unit)
    report.accepted = len(accepted)
    report.summary = {
        "new items": new,
        "updated items (same code)": updated,
        "attachments added": attached,
    }
    return report


# --- grid staff --------------------------------------------------------------------------------


def _staff_view(row: dict[str, Any], actor: Actor) -> dict[str, Any]:
    hidden = actor.role not in PHONE_READERS
    return {
        **row,
        "duty_name": STAFF_DUTIES.get(row["duty"], row["duty"]),
        "phone": None if hidden else row["phone"],
        "phone_hidden": hidden,
    }


def list_staff(
    session: Session,
    *,
    actor: Actor,
    grid: str | None = None,
    duty: str | None = None,
    unit: str | None = None,
    include_inactive: bool = False,
) -> list[dict[str, Any]]:
    """The people who work in the grids the actor sees (territory staff: their subtree);
    phones only for the street office and the community staff and grid leaders."""
    _require(actor, STAFF, "read the staff of grids")
    scope = scope_of(actor)
    if grid is not None and not repo.grid_seen(session, scope, grid):
        raise GridNotFound(f"no grid with code {grid!r}", field="grid")
    rows = repo.list_staff(
        session, scope=scope, grid=grid, duty=duty, unit=unit, include_inactive=include_inactive
    )
    return [_staff_view(r, actor) for r in rows]


def _check_staff(session: Session, staff: dict[str, Any], scope: Scope) -> dict[str, Any]:
    """The staff record tidied, or InvalidInput naming the field."""
    tidy = dict(staff)
    # A grid outside the actor's subtree answers as one that does not exist.
    if not repo.grid_seen(session, scope, staff["grid_code"]):
        raise InvalidInput(f"no current grid with code {staff['grid_code']!r}", field="grid_code")
    tidy["name"] = _blank_to_none(staff["name"])
    if tidy["name"] is None:
        raise InvalidInput("name is empty", field="name")
    if staff["duty"] not in STAFF_DUTIES:
        raise InvalidInput(
            f"unknown duty {staff['duty']!r}; expected one of {', '.join(STAFF_DUTIES)}",
            field="duty",
        )
    unit = tidy["unit_code"] = _blank_to_none(staff.get("unit_code"))
    kind = repo.unit_kinds(session, [unit]).get(unit) if unit else None
    if unit is not None and kind is None:
        raise InvalidInput(f"no active unit with code {unit!r}", field="unit_code")
    if staff["duty"] == "sunk_staff":
        if unit is None:
            raise InvalidInput(
                "sunk staff (下沉人员) need unit_code: the department they come from",
                field="unit_code",
            )
        if kind not in SUNK_UNIT_KINDS:
            raise InvalidInput(
                f"unit {unit} is a {kind}; sunk staff come from a department", field="unit_code"
            )
    tidy["phone"] = _blank_to_none(staff.get("phone"))
    username = tidy["username"] = _blank_to_none(staff.get("username"))
    if username is not None:
        tidy["username"] = username = username.lower()  # user names are stored in lower case
        if not repo.account_exists(session, username):
            raise InvalidInput(f"no account named {username!r}", field="username")
    return tidy


def add_staff(session: Session, body: dict[str, Any], *, actor: Actor) -> dict[str, Any]:
    """Record someone who works in a grid (the street anywhere, community staff in their
    community)."""
    _require(actor, STAFF_EDITORS, "change the staff of grids")
    scope = scope_of(actor)
    staff = _check_staff(session, body, scope)
    staff_id = repo.insert_staff(session, staff)
    _audit(
        session,
        actor,
        "grid_staff_added",
        f"grid_staff:{staff_id}",
        {"grid_code": staff["grid_code"], "duty": staff["duty"], "name": staff["name"]},
    )
    return _staff_view(_staff(session, staff_id, scope), actor)


def _staff(session: Session, staff_id: int, scope: Scope, lock: bool = False) -> dict[str, Any]:
    row = repo.get_staff(session, staff_id, scope=scope, lock=lock)
    if row is None:
        raise NotFound(f"no grid staff with id {staff_id}", field="staff_id")
    return row


def change_staff(
    session: Session, staff_id: int, changes: dict[str, Any], *, actor: Actor
) -> dict[str, Any]:
    """Change the fields sent; a record outside the actor's community is 404."""
    _require(actor, STAFF_EDITORS, "change the staff of grids")
    _refuse_nulls(changes, ("grid_code", "name", "duty", "active"), f"grid staff {staff_id}")
    scope = scope_of(actor)
    current = _staff(session, staff_id, scope, lock=True)
    merged = _check_staff(session, {**current, **changes}, scope)
    stored = {k: merged[k] for k in changes if merged[k] != current[k]}
    repo.update_staff(session, staff_id, stored)
    if stored:
        # Which fields changed, not their values: the log keeps no phone numbers.
        _audit(
            session,
            actor,
            "grid_staff_changed",
            f"grid_staff:{staff_id}",
            {"grid_code": merged["grid_code"], "fields": sorted(stored)},
        )
    return _staff_view(_staff(session, staff_id, scope), actor)


# --- the grids a unit serves ----------------------------------------------------------------


def list_unit_grids(
    session: Session, *, actor: Actor, unit: str | None = None, kind: str | None = None
) -> list[dict[str, Any]]:
    """Each unit with the grids it serves, as far as the actor sees grids."""
    _require(actor, STAFF, "read the grids units serve")
    return repo.list_unit_grids(session, scope=scope_of(actor), unit=unit, kind=kind)


def set_unit_grids(
    session: Session, unit_code: str, grid_codes: list[str], *, actor: Actor
) -> dict[str, Any]:
    """Make `grid_codes` the grids a department sunk into the street serves."""
    _require(actor, UNIT_GRID_EDITORS, "set the grids a unit serves")
    unit = repo.get_unit(session, unit_code)
    if unit is None:
        raise NotFound(f"no active unit with code {unit_code!r}", field="code")
    if unit["kind"] not in SUNK_UNIT_KINDS:
        raise InvalidInput(
            f"unit {unit_code} is a {unit['kind']}; only departments (kind department) are"
            " sunk into grids",
            field="code",
        )
    wanted = sorted({c.strip() for c in grid_codes if c.strip()})
    unknown = sorted(set(wanted) - repo.current_grid_codes(session, wanted))
    if unknown:
        raise InvalidInput(
            f"no current grid with code {', '.join(map(repr, unknown))}", field="grid_codes"
        )
    before = repo.replace_unit_grids(session, unit_code, wanted)
    if before != wanted:
        _audit(session, actor, "unit_grids_set", unit_code, {"before": before, "after": wanted})
    return {
        "unit_code": unit_code,
        "unit_name": unit["name"],
        "unit_kind": unit["kind"],
        "grid_codes": wanted,
    }


def _audit(session: Session, actor: Actor, action: str, target: str, detail: dict) -> None:
    auth_repo.audit(
        session, action, actor=actor.name, target=target, client=actor.client, detail=detail
    )
