"""Red property (红色物业): a property company claims an unmanaged courtyard (认领), the street
approves or rejects it (审批), and an approved claim ends when the company leaves (退出).

Approval makes the company the courtyard's manager (management_status red_property), in the
same transaction, so the dispatch rules (units/service.py, courtyard_company) send the
courtyard's cases to it from then on; ending the claim hands the courtyard back (unmanaged).
Claims are never deleted: they are the courtyard's history. Every claim, decision and end is
written to the audit log.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from onegrid.auth import repository as auth_repo
from onegrid.auth.actor import Actor
from onegrid.auth.scope import EVERYTHING, Scope, place_scope
from onegrid.cases.deadlines import TIME_ZONE
from onegrid.errors import Conflict, Forbidden, InvalidInput, NotFound, TransitionNotAllowed
from onegrid.redproperty import repository as repo
from onegrid.redproperty.models import CLAIM_STATUSES

# Who may record a claim: the company itself, the street office, and a community for the
# courtyards of its own community; who decides and ends them: the street administrator.
CLAIMANTS = frozenset({"property_staff", "street_admin", "street_dispatcher", "community_staff"})
READERS = frozenset(
    {
        "street_admin",
        "street_dispatcher",
        "auditor",
        "community_staff",
        "grid_leader",
        "grid_worker",
        "property_staff",
    }
)
DECIDERS = frozenset({"street_admin"})

# The map's colours: red for red property (党建红), amber while a claim waits, grey for the
# courtyards nobody manages yet, blue for those a company manages under contract.
MAP_STATUSES = {
    "red_property": ("红色物业", "#c0392b"),
    "claim_pending": ("认领待审批", "#e67e22"),
    "unmanaged": ("无主管", "#7f8c8d"),
    "property_managed": ("物业管理", "#2e86c1"),
}


def today(now: datetime) -> date:
    """The date in Beijing: a claim made at 07:00 there is made that day, not the UTC one."""
    return now.astimezone(TIME_ZONE).date()


def _where(claim: dict[str, Any]) -> str:
    name = claim.get("courtyard_name") or claim.get("name") or "unnamed"
    ident = claim.get("courtyard_id", claim.get("id"))
    return f"courtyard {ident} ({name})"


def claim_courtyard(
    session: Session, data: dict[str, Any], *, actor: Actor, now: datetime
) -> dict[str, Any]:
    """Record a pending claim of an unmanaged courtyard by a property company.

    A property company claims for itself; the street and the courtyard's community may record
    a claim on a company's behalf. 404 for a courtyard outside the person's view (as for one
    that does not exist); 409 for a courtyard that is managed or already has an open claim.
    """
    company_code = data["company_code"].strip()
    if actor.role == "property_staff" and company_code != actor.unit_code:
        raise Forbidden(
            f"property staff of {actor.unit_code} claim for their own company, not for"
            f" {company_code!r}",
            field="company_code",
        )
    company = repo.property_company(session, company_code)
    if company is None or not company["active"]:
        raise InvalidInput(
            f"{company_code!r} is not an active property company (GET /api/units, kind"
            " property_company)",
            field="company_code",
        )
    claimed_on = data["claimed_on"]
    if claimed_on > today(now):
        raise InvalidInput(
            f"claimed_on {claimed_on} is in the future (today is {today(now)})", field="claimed_on"
        )
    courtyard = repo.get_courtyard(session, data["courtyard_id"], place_scope(actor), lock=True)
    if courtyard is None:
        raise NotFound(f"no courtyard with id {data['courtyard_id']}", field="courtyard_id")
    existing = repo.open_claim(session, courtyard["id"])
    if existing is not None:
        raise Conflict(
            f"{_where(courtyard)} already has an open claim: claim {existing['id']} by"
            f" {existing['company_name']} ({existing['company_code']}), {existing['status']}"
            f" since {existing['claimed_on']}",
            field="courtyard_id",
            open_claim_id=existing["id"],
        )
    previous_end = repo.last_ended_on(session, courtyard["id"])
    if previous_end is not None and claimed_on < previous_end:
        raise InvalidInput(
            f"claimed_on {claimed_on} is before the courtyard's last claim ended"
            f" ({previous_end}): a claim starts after the one before it",
            field="claimed_on",
        )
    if courtyard["management_status"] != "unmanaged":
        raise Conflict(
            f"{_where(courtyard)} is {courtyard['management_status'] or 'of unknown management'}"
            f"{' by ' + courtyard['manager_unit_code'] if courtyard['manager_unit_code'] else ''}:"
            " only an unmanaged courtyard (无主管) can be claimed",
            field="courtyard_id",
        )
    claim_id = repo.insert_claim(
        session,
        {
            "courtyard_id": courtyard["id"],
            "company_code": company_code,
            "claimed_on": claimed_on,
            "note": (data.get("note") or "").strip() or None,
            "requested_by": actor.name,
            "requested_at": now,
        },
    )
    auth_repo.audit(
        session,
        "courtyard_claimed",
        actor=actor.name,
        target=f"claim {claim_id}",
        client=actor.client,
        detail={
            "courtyard_id": courtyard["id"],
            "company_code": company_code,
            "claimed_on": claimed_on,
            "role": actor.role,
        },
        at=now,
    )
    return get_claim(session, claim_id, scope=place_scope(actor))


def _pending_claim(session: Session, claim_id: int, action: str) -> dict[str, Any]:
    claim = repo.get_claim(session, claim_id, EVERYTHING, lock=True)
    if claim is None:
        raise NotFound(f"no claim with id {claim_id}", field="id")
    if claim["status"] != "pending":
        raise TransitionNotAllowed(
            f"claim {claim_id} of {_where(claim)} is {claim['status']}: only a pending claim"
            f" can be {action}",
            field="status",
            status=claim["status"],
        )
    return claim


def approve_claim(
    session: Session, claim_id: int, note: str | None, *, actor: Actor, now: datetime
) -> dict[str, Any]:
    """Approve a pending claim: the company becomes the courtyard's manager (red property)."""
    claim = _pending_claim(session, claim_id, "approved")
    if claim["management_status"] != "unmanaged":
        raise Conflict(
            f"{_where(claim)} is now {claim['management_status']}: only an unmanaged courtyard"
            " can be handed to a red-property company; reject the claim",
            field="courtyard_id",
        )
    company = repo.property_company(session, claim["company_code"])
    if company is None or not company["active"]:
        raise Conflict(
            f"{claim['company_code']} is no longer an active property company; reject the claim",
            field="company_code",
        )
    repo.update_claim(
        session,
        claim_id,
        {
            "status": "approved",
            "decided_by": actor.name,
            "decided_at": now,
            "decision_note": _clean(note),
        },
    )
    repo.set_management(
        session,
        claim["courtyard_id"],
        status="red_property",
        manager=claim["company_code"],
        by=actor.name,
        at=now,
    )
    _audit(session, "courtyard_claim_approved", claim, actor, now, {"note": _clean(note)})
    return get_claim(session, claim_id, scope=EVERYTHING)


def reject_claim(
    session: Session, claim_id: int, note: str | None, *, actor: Actor, now: datetime
) -> dict[str, Any]:
    """Reject a pending claim, saying why; the courtyard stays unmanaged and claimable."""
    if not _clean(note):
        raise InvalidInput("a rejection needs a note saying why", field="note")
    claim = _pending_claim(session, claim_id, "rejected")
    repo.update_claim(
        session,
        claim_id,
        {
            "status": "rejected",
            "decided_by": actor.name,
            "decided_at": now,
            "decision_note": _clean(note),
        },
    )
    _audit(session, "courtyard_claim_rejected", claim, actor, now, {"note": _clean(note)})
    return get_claim(session, claim_id, scope=EVERYTHING)


def end_claim(
    session: Session,
    claim_id: int,
    ended_on: date,
    reason: str,
    *,
    actor: Actor,
    now: datetime,
) -> dict[str, Any]:
    """End an approved claim: the courtyard is unmanaged again, with no manager."""
    claim = repo.get_claim(session, claim_id, EVERYTHING, lock=True)
    if claim is None:
        raise NotFound(f"no claim with id {claim_id}", field="id")
    if claim["status"] != "approved":
        raise TransitionNotAllowed(
            f"claim {claim_id} of {_where(claim)} is {claim['status']}: only an approved claim"
            " can end",
            field="status",
            status=claim["status"],
        )
    if not _clean(reason):
        raise InvalidInput("ending a claim needs a reason", field="reason")
    if ended_on < claim["claimed_on"]:
        raise InvalidInput(
            f"ended_on {ended_on} is before the claim began ({claim['claimed_on']})",
            field="ended_on",
        )
    if ended_on > today(now):
        raise InvalidInput(
            f"ended_on {ended_on} is in the future (today is {today(now)})", field="ended_on"
        )
    approved_on = claim["decided_at"].astimezone(TIME_ZONE).date()
    if ended_on < approved_on:
        raise InvalidInput(
            f"ended_on {ended_on} is before the street approved the claim ({approved_on})",
            field="ended_on",
        )
    repo.update_claim(
        session,
        claim_id,
        {
            "status": "ended",
            "ended_on": ended_on,
            "ended_by": actor.name,
            "end_reason": _clean(reason),
        },
    )
    repo.set_management(
        session, claim["courtyard_id"], status="unmanaged", manager=None, by=actor.name, at=now
    )
    _audit(
        session,
        "courtyard_claim_ended",
        claim,
        actor,
        now,
        {"ended_on": ended_on, "reason": _clean(reason)},
    )
    return get_claim(session, claim_id, scope=EVERYTHING)


def _clean(text: str | None) -> str | None:
    return (text or "").strip() or None


def _audit(
    session: Session,
    action: str,
    claim: dict[str, Any],
    actor: Actor,
    now: datetime,
    detail: dict[str, Any],
) -> None:
    auth_repo.audit(
        session,
        action,
        actor=actor.name,
        target=f"claim {claim['id']}",
        client=actor.client,
        detail={
            "courtyard_id": claim["courtyard_id"],
            "company_code": claim["company_code"],
            **detail,
        },
        at=now,
    )


def get_claim(session: Session, claim_id: int, *, scope: Scope) -> dict[str, Any]:
    """One claim the scope sees; 404 as for one that does not exist otherwise."""
    claim = repo.get_claim(session, claim_id, scope)
    if claim is None:
        raise NotFound(f"no claim with id {claim_id}", field="id")
    return _in_beijing_time(claim)


def list_claims(
    session: Session,
    *,
    scope: Scope,
    status: str | None = None,
    company: str | None = None,
    community: str | None = None,
    courtyard: int | None = None,
    limit: int = 500,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """Claims the scope sees, newest first, filtered by status, company and community."""
    if status is not None and status not in CLAIM_STATUSES:
        raise InvalidInput(
            f"unknown status {status!r}; claims are {', '.join(CLAIM_STATUSES)}", field="status"
        )
    if community is not None and not repo.community_exists(session, community):
        raise InvalidInput(
            f"no current community (second-level grid) with code {community!r}",
            field="community",
        )
    rows = repo.list_claims(
        session,
        scope,
        {"status": status, "company": company, "community": community, "courtyard": courtyard},
        limit,
        offset,
    )
    return [_in_beijing_time(r) for r in rows]


def courtyard_history(session: Session, courtyard_id: int, *, scope: Scope) -> list[dict]:
    """A courtyard's claims, oldest first (its red-property history); 404 for a courtyard
    outside the person's view."""
    if repo.get_courtyard(session, courtyard_id, scope) is None and not repo.list_claims(
        session, scope, {"courtyard": courtyard_id}, 1, 0
    ):
        raise NotFound(f"no courtyard with id {courtyard_id}", field="courtyard_id")
    rows = repo.list_claims(session, scope, {"courtyard": courtyard_id}, 10_000, 0)
    return [_in_beijing_time(r) for r in reversed(rows)]


def claimable_courtyards(
    session: Session, *, scope: Scope, bbox: tuple[float, float, float, float] | None = None
) -> dict[str, Any]:
    """Unmanaged courtyards without an open claim, as GeoJSON: what may be claimed."""
    features = []
    for row in repo.claimable_courtyards(session, scope, bbox):
        geometry = row.pop("geometry")
        features.append(
            {"type": "Feature", "id": row["id"], "geometry": geometry, "properties": row}
        )
    return {"type": "FeatureCollection", "features": features}


def courtyard_map(
    session: Session, *, scope: Scope, bbox: tuple[float, float, float, float] | None = None
) -> dict[str, Any]:
    """Courtyards as GeoJSON, each with its red-property status, label and colour."""
    features = []
    for row in repo.courtyard_layer(session, scope, bbox):
        geometry = row.pop("geometry")
        if row["management_status"] == "unmanaged" and row["claim_status"] == "pending":
            status = "claim_pending"
        else:
            status = row["management_status"] or "unmanaged"
        label, colour = MAP_STATUSES.get(status, MAP_STATUSES["unmanaged"])
        claimed_on = row.pop("claimed_on")
        features.append(
            {
                "type": "Feature",
                "id": row["id"],
                "geometry": geometry,
                "properties": {
                    **row,
                    "claimed_on": claimed_on.isoformat() if claimed_on else None,
                    "map_status": status,
                    "map_label": label,
                    "colour": colour,
                },
            }
        )
    return {"type": "FeatureCollection", "features": features}


def coverage(session: Session, *, scope: Scope) -> dict[str, Any]:
    """红色物业覆盖: courtyards needing red property (unmanaged + red_property), how many are
    claimed, by which company and since when, in total and per community."""
    rows = repo.courtyards_needing(session, scope)
    communities: dict[str | None, dict[str, Any]] = {}
    companies: dict[str, dict[str, Any]] = {}
    claimed_list = []
    for row in rows:
        group = communities.setdefault(
            row["community_code"],
            {
                "code": row["community_code"],
                "name": row["community_name"],
                "needing": 0,
                "claimed": 0,
                "pending": 0,
            },
        )
        group["needing"] += 1
        if row["management_status"] == "red_property":
            group["claimed"] += 1
            since = row["claimed_on"] if row["claim_status"] == "approved" else None
            code = row["manager_unit_code"] or "unknown"
            company = companies.setdefault(
                code,
                {
                    "company_code": code,
                    "company_name": row["manager_name"],
                    "courtyards": 0,
                    "since": None,
                },
            )
            company["courtyards"] += 1
            if since and (company["since"] is None or since < company["since"]):
                company["since"] = since
            claimed_list.append(
                {
                    "courtyard_id": row["id"],
                    "courtyard_name": row["name"],
                    "community_code": row["community_code"],
                    "company_code": code,
                    "company_name": row["manager_name"],
                    "since": since,
                    "claim_id": row["claim_id"] if row["claim_status"] == "approved" else None,
                }
            )
        elif row["claim_status"] == "pending":
            group["pending"] += 1
    for group in communities.values():
        _complete(group)
    total = _complete(
        {
            "needing": len(rows),
            "claimed": sum(g["claimed"] for g in communities.values()),
            "pending": sum(g["pending"] for g in communities.values()),
        }
    )
    return {
        **total,
        "companies": sorted(
            companies.values(), key=lambda c: (-c["courtyards"], c["company_code"])
        ),
        "communities": list(communities.values()),
        "claimed_courtyards": claimed_list,
    }


def _complete(group: dict[str, Any]) -> dict[str, Any]:
    group["unclaimed"] = group["needing"] - group["claimed"]
    group["claimed_share"] = (
        round(group["claimed"] / group["needing"], 4) if group["needing"] else None
    )
    return group


def _in_beijing_time(row: dict[str, Any]) -> dict[str, Any]:
    return {
        k: v.astimezone(TIME_ZONE) if isinstance(v, datetime) and v.tzinfo else v
        for k, v in row.items()
    }
