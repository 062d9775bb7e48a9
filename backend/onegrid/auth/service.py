"""Accounts: create, disable, change passwords; sign in with lock-out; issue and refresh tokens.

Every sensitive action is written to the audit log with who, when, what and from where.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from onegrid.auth import repository as repo
from onegrid.auth import security
from onegrid.auth.actor import ROLES, Actor
from onegrid.errors import Conflict, InvalidInput, NotAuthenticated, NotFound
from onegrid.settings import Settings
from onegrid.units import repository as units_repo

log = logging.getLogger("onegrid.auth")
_DEVELOPMENT_KEY = secrets.token_urlsafe(48)  # per process: development tokens die with it


def signing_key(settings: Settings) -> str:
    """The key access tokens are signed with; production must configure one."""
    if settings.secret_key:
        return settings.secret_key
    if settings.environment == "production":
        raise InvalidInput(
            "ONEGRID_SECRET_KEY must be set in production (a long random string)",
            field="ONEGRID_SECRET_KEY",
        )
    return _DEVELOPMENT_KEY


@dataclass(frozen=True)
class Tokens:
    access_token: str
    refresh_token: str
    expires_in: int  # seconds
    token_type: str = "bearer"


def create_user(
    session: Session,
    *,
    username: str,
    password: str,
    role: str,
    display_name: str | None = None,
    unit_code: str | None = None,
    grid_code: str | None = None,
    by: str,
    now: datetime,
) -> dict[str, Any]:
    if role not in ROLES:
        raise InvalidInput(f"unknown role {role!r}; roles are {', '.join(ROLES)}", field="role")
    problem = security.password_problem(password)
    if problem:
        raise InvalidInput(f"the password {problem}", field="password")
    if unit_code and not units_repo.unit_exists(session, unit_code):
        raise InvalidInput(f"no active unit with code {unit_code!r}", field="unit_code")
    if grid_code and not repo.grid_exists(session, grid_code):
        raise InvalidInput(f"no current grid with code {grid_code!r}", field="grid_code")
    username = username.strip().lower()
    user = repo.insert_user(
        session,
        {
            "username": username,
            "display_name": (display_name or username).strip(),
            "role": role,
            "unit_code": unit_code,
            "grid_code": grid_code,
            "password_hash": security.hash_password(password),
            "password_changed_at": now,
        },
    )
    if user is None:
        raise Conflict(f"a user named {username!r} exists", field="username")
    repo.audit(session, "user_created", actor=by, target=username, detail={"role": role}, at=now)
    return public(user)


def set_password(session: Session, username: str, password: str, *, by: str, now: datetime) -> None:
    """A new password; every refresh token of the user is revoked, access tokens end too."""
    user = _existing(session, username)
    problem = security.password_problem(password)
    if problem:
        raise InvalidInput(f"the password {problem}", field="password")
    repo.update_user(
        session,
        user["id"],
        {
            "password_hash": security.hash_password(password),
            "password_changed_at": now,
            "failed_logins": 0,
            "locked_until": None,
        },
    )
    repo.revoke_refresh_tokens(session, now, user_id=user["id"])
    repo.audit(session, "password_set", actor=by, target=user["username"], at=now)


def disable_user(session: Session, username: str, *, by: str, now: datetime) -> None:
    user = _existing(session, username)
    repo.update_user(session, user["id"], {"active": False})
    repo.revoke_refresh_tokens(session, now, user_id=user["id"])
    repo.audit(session, "user_disabled", actor=by, target=user["username"], at=now)


def list_users(session: Session) -> list[dict[str, Any]]:
    return [public(u) for u in repo.list_users(session)]


def sign_in(
    session: Session,
    username: str,
    password: str,
    *,
    now: datetime,
    client: str | None,
    settings: Settings,
) -> Tokens | NotAuthenticated:
    """Tokens, or the refusal to raise after this transaction commits (so failed attempts
    count, and lock the account after `max_failed_logins`, even though sign-in fails)."""
    # One answer for every refusal (unknown name, wrong password, locked, disabled), so the
    # answer does not tell which accounts exist or are locked.
    refusal = NotAuthenticated(
        "wrong user name or password, or the account is locked for a while", field="password"
    )
    name = username.strip().lower()
    user = None if "\x00" in name else repo.get_user(session, name, lock=True)
    if user is None:
        security.verify_password(_DUMMY_HASH, password)  # same time as a real check
        shown = name.replace("\x00", "")[:100]  # the audit log cannot hold NUL
        repo.audit(session, "sign_in_failed", actor=shown, client=client, at=now)
        return refusal
    if user["locked_until"] and user["locked_until"] > now:
        security.verify_password(_DUMMY_HASH, password)  # same time as a real check
        repo.audit(session, "sign_in_locked", actor=user["username"], client=client, at=now)
        return refusal
    if not user["active"] or not security.verify_password(user["password_hash"], password):
        failed = user["failed_logins"] + 1
        changes: dict[str, Any] = {"failed_logins": failed}
        if failed >= settings.max_failed_logins:
            changes.update(
                failed_logins=0, locked_until=now + timedelta(minutes=settings.lockout_minutes)
            )
        repo.update_user(session, user["id"], changes)
        repo.audit(session, "sign_in_failed", actor=user["username"], client=client, at=now)
        return refusal
    repo.update_user(session, user["id"], {"failed_logins": 0, "locked_until": None})
    repo.audit(session, "sign_in", actor=user["username"], client=client, at=now)
    return _issue(session, user, now, settings)


def refresh(
    session: Session, refresh_token: str, *, now: datetime, settings: Settings
) -> Tokens | NotAuthenticated:
    """A new pair for a valid refresh token, which is used up (rotation). A used-up token
    presented again means it was copied: every refresh token of that user is revoked (the
    caller raises the refusal after this transaction commits)."""
    refusal = NotAuthenticated(
        "the refresh token is unknown, revoked or expired: sign in again", field="refresh_token"
    )
    row = repo.take_refresh_token(session, security.token_digest(refresh_token))
    if row is None or row["expires_at"] <= now:
        return refusal
    user = repo.get_user_by_id(session, row["user_id"])
    if row["revoked_at"] is not None:
        repo.revoke_refresh_tokens(session, now, user_id=row["user_id"])
        repo.audit(
            session, "refresh_token_reused", actor=user["username"] if user else None, at=now
        )
        return refusal
    if user is None or not user["active"]:
        return refusal
    repo.revoke_refresh_tokens(session, now, token_id=row["id"])
    return _issue(session, user, now, settings)


def revoke(session: Session, refresh_token: str, *, now: datetime) -> None:
    row = repo.take_refresh_token(session, security.token_digest(refresh_token))
    if row is not None and row["revoked_at"] is None:
        repo.revoke_refresh_tokens(session, now, token_id=row["id"])
        user = repo.get_user_by_id(session, row["user_id"])
        repo.audit(session, "token_revoked", actor=user["username"] if user else None, at=now)


def actor_from_token(session: Session, token: str, *, now: datetime, settings: Settings) -> Actor:
    """The signed-in person, if the token is valid, unexpired and the account still stands."""
    claims = security.read_access_token(token, signing_key(settings), now)
    user = repo.get_user(session, str(claims["sub"])) if claims else None
    if (
        claims is None
        or user is None
        or not user["active"]
        # A password change ends the access tokens issued before it.
        or claims["iat"] < int(user["password_changed_at"].timestamp())
    ):
        raise NotAuthenticated("sign in again: the access token is invalid or expired")
    return Actor(name=user["username"], role=user["role"], unit_code=user["unit_code"])


def public(user: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in user.items() if k not in ("password_hash",)}


def _issue(session: Session, user: dict[str, Any], now: datetime, settings: Settings) -> Tokens:
    access = security.sign_access_token(
        {"sub": user["username"], "role": user["role"], "unit": user["unit_code"]},
        signing_key(settings),
        now,
        settings.access_token_minutes,
    )
    refresh_token = security.new_refresh_token()
    repo.insert_refresh_token(
        session,
        user["id"],
        security.token_digest(refresh_token),
        now + timedelta(days=settings.refresh_token_days),
    )
    return Tokens(access, refresh_token, settings.access_token_minutes * 60)


def _existing(session: Session, username: str) -> dict[str, Any]:
    user = repo.get_user(session, username.strip().lower())
    if user is None:
        raise NotFound(f"no user named {username!r}", field="username")
    return user


_DUMMY_HASH = security.hash_password(secrets.token_urlsafe(16))
