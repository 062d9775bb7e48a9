"""Load the seed data, and choose the unit a case is dispatched to (派单规则)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from onegrid.cases import taxonomy
from onegrid.units import repository as repo

# The dispatch rules in order; the first that yields a unit decides, and is recorded.
DISPATCH_RULES = (
    # Inside a dedicated grid (school, hospital...), its own unit handles matters of the
    # premises (types marked property_may_handle, or an unknown type).
    "dedicated_unit",
    # In a courtyard a property company manages or has claimed (红色物业), the same.
    "courtyard_company",
    # The department the category names.
    "category_department",
    # Territory as the last resort (属地兜底): the community, then the street.
    "community",
    "street",
)
PREMISES_RULES = ("dedicated_unit", "courtyard_company")


def choose_unit(session: Session, case_id: int) -> tuple[str | None, str | None]:
    """(unit code, the rule that chose it) for a stored case; (None, None) if none applies."""
    candidates = repo.dispatch_candidates(session, case_id)
    for rule in DISPATCH_RULES:
        unit = candidates[rule]
        if unit and (rule not in PREMISES_RULES or candidates["premises_may_handle"]):
            return unit, rule
    return None, None


def load_seed(
    session: Session, units_file: Path | None = None, categories_file: Path | None = None
) -> dict[str, int]:
    """Upsert the units and categories files (the packaged seed by default), all or nothing."""
    units = taxonomy.read_units(units_file)
    categories = taxonomy.read_categories(
        categories_file, unit_codes={u.code for u in units} | _stored_unit_codes(session)
    )
    counts = {
        "units": repo.upsert_units(
            session,
            (
                {
                    "code": u.code,
                    "name": u.name,
                    "kind": u.kind,
                    "grid_code": None,
                    "phone": u.phone,
                    "party_branch": u.party_branch,
                }
                for u in units
            ),
        ),
        "categories": repo.upsert_categories(session, (vars(c) for c in categories)),
    }
    repo.sync_territory_units(session)
    return counts


def _stored_unit_codes(session: Session) -> set[str]:
    return {u["code"] for u in repo.list_units(session)}


def list_units(session: Session) -> list[dict[str, Any]]:
    return repo.list_units(session)


def list_categories(session: Session) -> list[dict[str, Any]]:
    return repo.list_categories(session)
