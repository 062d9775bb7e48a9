"""SQL for users, refresh tokens and the audit log."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

USER_COLUMNS = (
    "id, username, display_name, role, unit_code, grid_code, password_hash, active,"
    " failed_logins, locked_until, password_changed_at, created_at"
)


def get_user(session: Session, username: str, *, lock: bool = False) -> dict[str, Any] | None:
    sql = f"SELECT {USER_COLUMNS} FROM users WHERE username = :u" + (" FOR UPDATE" if lock else "")
    row = session.execute(sa.text(sql), {"u": username}).first()
    return dict(row._mapping) if row else None


def get_user_by_id(session: Session, user_id: int) -> dict[str, Any] | None:
    row = session.execute(
        sa.text(f"SELECT {USER_COLUMNS} FROM users WHERE id = :id"), {"id": user_id}
    ).first()
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


def list_users(session: Session) -> list[dict[str, Any]]:
    rows = session.execute(sa.text(f"SELECT {USER_COLUMNS} FROM users ORDER BY username"))
    return [dict(r._mapping) for r in rows]


def grid_exists(session: Session, code: str) -> bool:
    return bool(
        session.execute(
            sa.text("SELECT 1 FROM grids WHERE code = :c AND valid_to IS NULL"), {"c": code}
        ).first()
    )


def insert_refresh_token(session: Session, user_id: int, digest: str, expires: datetime) -> None:
    session.execute(
        sa.text(
            "INSERT INTO refresh_tokens (user_id, token_sha256, expires_at) VALUES (:u, :d, :e)"
        ),
        {"u": user_id, "d": digest, "e": expires},
    )


def take_refresh_token(session: Session, digest: str) -> dict[str, Any] | None:
    """The token's row, locked (a token is used once: refreshing revokes it)."""
    row = session.execute(
        sa.text("SELECT * FROM refresh_tokens WHERE token_sha256 = :d FOR UPDATE"), {"d": digest}
    ).first()
    return dict(row._mapping) if row else None


def revoke_refresh_tokens(
    session: Session, at: datetime, *, token_id: int | None = None, user_id: int | None = None
) -> None:
    where = "id = :id" if token_id is not None else "user_id = :uid"
    session.execute(
        sa.text(f"UPDATE refresh_tokens SET revoked_at = :at WHERE {where} AND revoked_at IS NULL"),
        {"at": at, "id": token_id, "uid": user_id},
    )


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


def audit_entries(session: Session, limit: int = 100) -> list[dict[str, Any]]:
    rows = session.execute(
        sa.text("SELECT * FROM audit_log ORDER BY id DESC LIMIT :n"), {"n": limit}
    )
    return [dict(r._mapping) for r in rows]
