"""Who may see what: the one place where a person's role and place become SQL conditions.

Every read of cases or grids goes through these conditions, so a list, a count, a map layer,
a deadline list, an indicator and an export all show the same part of the street. Anything
outside it answers as if it did not exist (404), so its existence is not revealed either.

- the street office and auditors see the whole street;
- community staff, grid leaders and grid workers see the subtree of their grid (a community
  is a second-level grid);
- a department or a property company sees the cases dispatched to it, and the places it
  manages or keeps in touch with;
- residents see their own reports; a GIS editor works on boundaries, not on cases;
- everyone sees the cases they reported themselves (but moves them only where their
  territory or unit is); a follow token shows its one case.

Residents read their reports through /api/reports, in the public view without staff names
or notes; the staff views of cases and grids are not theirs (403).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from onegrid.auth.actor import Actor

WHOLE_STREET = frozenset({"street_admin", "street_dispatcher", "auditor"})
TERRITORY = frozenset({"community_staff", "grid_leader", "grid_worker"})
UNITS = frozenset({"department_handler", "property_staff"})

# Who may report through POST /api/cases (residents report through /api/reports) and who
# may upload a photo to a case they see; the workflow table says who may make which move.
REPORTERS = WHOLE_STREET - {"auditor"} | TERRITORY | UNITS
UPLOADERS = REPORTERS
# Who reads indicators and deadline lists (staff work, not a resident's business).
STAFF = WHOLE_STREET | TERRITORY | UNITS | {"gis_editor"}


@dataclass(frozen=True)
class Scope:
    """The part of the street a person sees; none of the fields set: only their own reports."""

    whole_street: bool = False
    grid_code: str | None = None  # the subtree of this grid
    unit_code: str | None = None  # the cases dispatched to this unit
    user_id: int | None = None  # the cases this account reported
    case_id: int | None = None  # the one case a resident's follow token names


EVERYTHING = Scope(whole_street=True)  # the command line, run by the street's own staff


def scope_of(actor: Actor) -> Scope:
    if actor.role in WHOLE_STREET:
        return EVERYTHING
    if actor.role in TERRITORY:
        return Scope(grid_code=actor.grid_code, user_id=actor.user_id)
    if actor.role in UNITS:
        return Scope(unit_code=actor.unit_code, user_id=actor.user_id)
    return Scope(user_id=actor.user_id)


def acting_scope(actor: Actor) -> Scope:
    """The cases one may move: those of one's territory or unit. A case one reported
    elsewhere is theirs to read, not to screen, verify or close."""
    return replace(scope_of(actor), user_id=None)


# The grids of the subtree: the current version of the scope's grid and, level by level, the
# current grids whose parent is in it. Every version of those codes counts (cases keep the
# boundary version they were assigned under).
SUBTREE_CODES = """(
    WITH RECURSIVE subtree AS (
        SELECT id, code FROM grids WHERE code = :scope_grid AND valid_to IS NULL
        UNION
        SELECT k.id, k.code FROM grids k JOIN subtree s ON k.parent_id = s.id
        WHERE k.valid_to IS NULL)
    SELECT code FROM subtree)"""


def assigned_in_subtree(alias: str, parameter: str = "scope_grid") -> str:
    """SQL: a case or place (aliased `alias`) names one grid per level; it is in the subtree
    of the grid whose code is `:parameter` when one of them is."""
    subtree = SUBTREE_CODES.replace(":scope_grid", f":{parameter}")
    return (
        f"ARRAY[{alias}.street_grid_id, {alias}.second_grid_id, {alias}.third_grid_id,"
        f" {alias}.micro_grid_id, {alias}.dedicated_grid_id]"
        f" && ARRAY(SELECT id FROM grids WHERE code IN {subtree})"
    )


def case_condition(scope: Scope, alias: str = "c") -> tuple[str, dict[str, Any]]:
    """An SQL condition on the cases table (aliased `alias`) and its parameters."""
    if scope.whole_street:
        return "TRUE", {}
    params: dict[str, Any] = {}
    seen = []
    if scope.grid_code:
        seen.append(assigned_in_subtree(alias))
        params["scope_grid"] = scope.grid_code
    if scope.unit_code:
        seen.append(f"{alias}.unit_code = :scope_unit")
        params["scope_unit"] = scope.unit_code
    if scope.user_id is not None:
        seen.append(f"{alias}.reporter_user_id = :scope_user")
        params["scope_user"] = scope.user_id
    if scope.case_id is not None:
        seen.append(f"{alias}.id = :scope_case")
        params["scope_case"] = scope.case_id
    return ("(" + " OR ".join(seen) + ")" if seen else "FALSE"), params


def grid_condition(scope: Scope, alias: str = "g") -> tuple[str, dict[str, Any]]:
    """An SQL condition on the grids table: territory staff see their subtree; everyone else
    the street's boundaries (the map a street posts on its notice boards)."""
    if scope.grid_code:
        return f"{alias}.code IN {SUBTREE_CODES}", {"scope_grid": scope.grid_code}
    return "TRUE", {}


# Who sees the places registry (buildings, courtyards, merchants, enterprises, sites, units):
# the street's staff, each in their scope; the GIS editor keeps the street's spatial data.
PLACE_READERS = WHOLE_STREET | TERRITORY | UNITS | {"gis_editor"}


def place_scope(actor: Actor) -> Scope:
    """The places a person sees: as their cases (scope_of), but the GIS editor, who imports
    and corrects the street's spatial data, sees all of them."""
    return EVERYTHING if actor.role == "gis_editor" else scope_of(actor)


def place_condition(scope: Scope, alias: str = "p") -> tuple[str, dict[str, Any]]:
    """An SQL condition on the places table: the whole street; a place assigned to a grid of
    the subtree; a place a unit manages (a courtyard of its property company) or keeps in
    touch with (contact_unit_code), and for a property company the courtyards it has claimed.
    Reporter and follow-token scopes see no places."""
    if scope.whole_street:
        return "TRUE", {}
    params: dict[str, Any] = {}
    seen = []
    if scope.grid_code:
        seen.append(assigned_in_subtree(alias))
        params["scope_grid"] = scope.grid_code
    if scope.unit_code:
        seen.append(
            f"({alias}.manager_unit_code = :scope_unit OR {alias}.contact_unit_code = :scope_unit"
            # A property company also sees the courtyards it has claimed (红色物业认领), its
            # pending claims included; the ones it may claim are on the claim pages.
            f" OR ({alias}.kind = 'courtyard' AND EXISTS (SELECT 1 FROM courtyard_claims k"
            f" WHERE k.courtyard_id = {alias}.id AND k.company_code = :scope_unit)))"
        )
        params["scope_unit"] = scope.unit_code
    return ("(" + " OR ".join(seen) + ")" if seen else "FALSE"), params
