"""SQL for users, refresh tokens and the audit log."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.orm import Session

from onegrid.auth.scope import SUBTREE_CODES

USER_COLUMNS = (
    "id, username, display_name, role, unit_code, grid_code, password_hash, active,"
    " failed_logins, locked_until, password_changed_at, sessions_ended_at, created_at"
)


def get_user(session: Session, username: str, *, lock: bool = False) -> dict[str, Any] | None:
    sql = f"SELECT {USER_COLUMNS} FROM users WHERE username = :u" + (" FOR UPDATE" if lock else "")
    row = session.execute(sa.text(sql), {"u": username}).first()
    return dict(row._mapping) if row else None


def get_user_by_id(session: Session, user_id: int, *, lock: bool = False) -> dict[str, Any] | None:
    sql = f"SELECT {USER_COLUMNS} FROM users WHERE id = :id" + (" FOR UPDATE" if lock else "")
    row = session.execute(sa.text(sql), {"id": user_id}).first()
    return dict(row._mapping) if row else None


def insert_user(session: Session, values: dict[str, Any]) -> dict[str, Any] | None:
    row = session.execute(
        sa.text(
            f"""
            INSERT INTO users (username, display_name, role, unit_code, grid_code, password_hash,
                               password_changed_at)
            VALUES (:username, :display_name, :role, :unit_code, :grid_code, :password_hash,
                    :password_changed_at)
            ON CONFLICT (username) DO NOTHING
            RETURNING {USER_COLUMNS}
            """
        ),
        values,
    ).first()
    return dict(row._mapping) if row else None


def update_user(session: Session, user_id: int, changes: dict[str, Any]) -> None:
    sets = ", ".join(f"{c} = :{c}" for c in changes)
    session.execute(sa.text(f"UPDATE users SET {sets} WHERE id = :id"), {**changes, "id": user_id})


def list_users(session: Session, *, in_grid: str | None = None) -> list[dict[str, Any]]:
    """Every user, or with `in_grid` those whose grid lies in that grid's current subtree."""
    where, params = "", {}
    if in_grid is not None:
        where, params = f"WHERE grid_code IN {SUBTREE_CODES}", {"scope_grid": in_grid}
    rows = session.execute(
        sa.text(f"SELECT {USER_COLUMNS} FROM users {where} ORDER BY username"), params
    )
    return [dict(r._mapping) for r in rows]


def other_active_admins(session: Session, user_id: int) -> int:
    """How many other active street administrators there are, counted under a lock held to
    the end of the transaction: two administrators demoting each other at once are counted
    one after the other, and the second count sees the first change (READ COMMITTED)."""
    session.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext('onegrid:street_admins'))"))
    return session.execute(
        sa.text("SELECT count(*) FROM users WHERE role = 'street_admin' AND active AND id <> :id"),
        {"id": user_id},
    ).scalar_one()


def grid_level(session: Session, code: str) -> str | None:
    """The level of the current grid with this code (street, second, third, micro,
    dedicated), or None when no current grid has it."""
    return session.execute(
        sa.text("SELECT level FROM grids WHERE code = :c AND valid_to IS NULL"), {"c": code}
    ).scalar()


def unit_kind(session: Session, code: str) -> str | None:
    """The kind of the active unit with this code (units/models.py UNIT_KINDS), or None."""
    return session.execute(
        sa.text("SELECT kind FROM units WHERE code = :c AND active"), {"c": code}
    ).scalar()


def insert_refresh_token(
    session: Session, user_id: int, digest: str, created: datetime, expires: datetime
) -> None:
    session.execute(
        sa.text(
            "INSERT INTO refresh_tokens (user_id, token_sha256, created_at, expires_at)"
            " VALUES (:u, :d, :c, :e)"
        ),
        {"u": user_id, "d": digest, "c": created, "e": expires},
    )


def refresh_token_owner(session: Session, digest: str) -> int | None:
    """The id of the user a refresh token belongs to, read without a lock."""
    return session.execute(
        sa.text("SELECT user_id FROM refresh_tokens WHERE token_sha256 = :d"), {"d": digest}
    ).scalar()


def take_refresh_token(session: Session, digest: str) -> dict[str, Any] | None:
    """The token's row, locked (a token is used once: refreshing revokes it). Lock its user
    first (get_user_by_id with lock): every account change takes the user's row, then the
    tokens, and the other order deadlocks against it."""
    row = session.execute(
        sa.text("SELECT * FROM refresh_tokens WHERE token_sha256 = :d FOR UPDATE"), {"d": digest}
    ).first()
    return dict(row._mapping) if row else None


def revoke_refresh_tokens(
    session: Session, at: datetime, *, token_id: int | None = None, user_id: int | None = None
) -> int:
    """Revoke one token or every token of a user; how many were still unrevoked."""
    where = "id = :id" if token_id is not None else "user_id = :uid"
    result = session.execute(
        sa.text(f"UPDATE refresh_tokens SET revoked_at = :at WHERE {where} AND revoked_at IS NULL"),
        {"at": at, "id": token_id, "uid": user_id},
    )
    return cast(sa.CursorResult, result).rowcount or 0


def audit(
    session: Session,
    action: str,
    *,
    actor: str | None,
    target: str | None = None,
    client: str | None = None,
    detail: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> None:
    session.execute(
        sa.text(
            "INSERT INTO audit_log (at, actor, action, target, client, detail)"
            " VALUES (coalesce(:at, now()), :actor, :action, :target, :client,"
            " CAST(:detail AS jsonb))"
        ),
        {
            "at": at,
            "actor": actor,
            "action": action,
            "target": target,
            "client": client,
            "detail": json.dumps(detail or {}, ensure_ascii=False, default=str),
        },
    )


AUDIT_FILTERS = {"action": "action = :action", "actor": "actor = :actor", "since": "at >= :since"}


def audit_entries(
    session: Session,
    *,
    action: str | None = None,
    actor: str | None = None,
    since: datetime | None = None,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """Entries newest first, each filter applied when given."""
    # Only the filters given go into the statement, so the planner can use the indexes on
    # (action, id) and (actor, id) rather than plan for "maybe filtered".
    filters = {
        k: v for k, v in {"action": action, "actor": actor, "since": since}.items() if v is not None
    }
    where = " AND ".join(AUDIT_FILTERS[k] for k in filters) or "TRUE"
    rows = session.execute(
        sa.text(
            "SELECT id, at, actor, action, target, client, detail FROM audit_log"
            f" WHERE {where} ORDER BY id DESC LIMIT :n"
        ),
        {**filters, "n": limit},
    )
    return [dict(r._mapping) for r in rows]
