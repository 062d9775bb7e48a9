"""Accounts: create, change, disable, set passwords; sign in with lock-out; issue and refresh
tokens; read the accounts and the audit log.

Every sensitive action is written to the audit log with who, when, what and from where.
"""

from __future__ import annotations

import logging
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from onegrid.auth import repository as repo
from onegrid.auth import security
from onegrid.auth.actor import ROLES, Actor
from onegrid.cases.deadlines import TIME_ZONE
from onegrid.errors import Conflict, Forbidden, InvalidInput, NotAuthenticated, NotFound
from onegrid.settings import Settings

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


# Who may use the account pages at all; everyone else gets 403.
ADMINS = frozenset({"street_admin"})
USER_READERS = frozenset({"street_admin", "auditor", "community_staff", "grid_leader"})
AUDIT_READERS = frozenset({"street_admin", "auditor"})

# The scope each role takes (auth/scope.py turns it into what they see): territory staff a grid,
# handlers a unit, every other role neither. A grid or unit given to a role that does not use it
# would look like a limit while limiting nothing, so it is refused.
GRID_LEVELS = {
    "community_staff": ("second",),
    "grid_leader": ("third", "micro", "dedicated"),
    "grid_worker": ("third", "micro", "dedicated"),
}
UNIT_KINDS = {
    # Cases go to departments, the street's offices, a dedicated grid's unit and, as the last
    # resort, a community or the street (属地兜底, units/service.py); whoever takes them for such
    # a unit is a department handler (as in the demo's histories). Property companies have a
    # role of their own.
    "department_handler": ("department", "street_office", "dedicated_unit", "community", "street"),
    "property_staff": ("property_company",),
}
LEVEL_NAMES = {
    "street": "street",
    "second": "second-level (community)",
    "third": "third-level",
    "micro": "micro",
    "dedicated": "dedicated",
}
USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{1,63}")  # as the users table checks it

# What the account list shows: territory staff see who works in their grids; the auditor also
# sees whether an account is locked; only the administrator sees the sign-in internals.
STAFF_VIEW = ("username", "display_name", "role", "unit_code", "grid_code", "active")
AUDITOR_VIEW = (*STAFF_VIEW, "locked", "created_at", "password_changed_at")
ME_VIEW = ("username", "display_name", "role", "unit_code", "grid_code")
SCOPE_FIELDS = ("role", "unit_code", "grid_code")
CHANGEABLE = (*SCOPE_FIELDS, "display_name", "active")


def require(actor: Actor, roles: frozenset[str], doing: str) -> None:
    """Refuse (403) a role that may not do this at all."""
    if actor.role not in roles:
        raise Forbidden(f"a {actor.role} ({ROLES.get(actor.role, '?')}) may not {doing}")


def check_scope(session: Session, role: str, unit_code: str | None, grid_code: str | None) -> None:
    """Refuse a role without the grid or unit it needs, or with one it does not use."""
    if role not in ROLES:
        raise InvalidInput(f"unknown role {role!r}; roles are {', '.join(ROLES)}", field="role")
    levels, kinds = GRID_LEVELS.get(role), UNIT_KINDS.get(role)
    if grid_code and not levels:
        by = " (it is scoped by unit_code)" if kinds else ""
        raise InvalidInput(
            f"a grid does not narrow what a {role}{by} sees: leave grid_code empty",
            field="grid_code",
        )
    if unit_code and not kinds:
        by = " (it is scoped by grid_code)" if levels else ""
        raise InvalidInput(
            f"a unit does not narrow what a {role}{by} sees: leave unit_code empty",
            field="unit_code",
        )
    if levels:
        wanted = _either([LEVEL_NAMES[level] for level in levels])
        if not grid_code:
            raise InvalidInput(
                f"a {role} needs grid_code: the code of a current {wanted} grid", field="grid_code"
            )
        level = repo.grid_level(session, grid_code)
        if level is None:
            raise InvalidInput(f"no current grid with code {grid_code!r}", field="grid_code")
        if level not in levels:
            raise InvalidInput(
                f"grid {grid_code} is a {LEVEL_NAMES.get(level, level)} grid; a {role} needs"
                f" a {wanted} grid",
                field="grid_code",
            )
    if kinds:
        wanted = _either(list(kinds))
        if not unit_code:
            raise InvalidInput(
                f"a {role} needs unit_code: the code of an active unit of kind {wanted}",
                field="unit_code",
            )
        kind = repo.unit_kind(session, unit_code)
        if kind is None:
            raise InvalidInput(f"no active unit with code {unit_code!r}", field="unit_code")
        if kind not in kinds:
            raise InvalidInput(
                f"unit {unit_code} is a {kind}; a {role} needs a unit of kind {wanted}",
                field="unit_code",
            )


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
    client: str | None = None,
) -> dict[str, Any]:
    """A new account; `by` is who creates it (a user name, or cli:<OS user>)."""
    username = username.strip().lower()
    if not USERNAME.fullmatch(username):
        raise InvalidInput(
            "a user name is 2-64 lower-case letters, digits, '.', '_' or '-', starting with a"
            " letter or digit",
            field="username",
        )
    unit_code, grid_code = _blank(unit_code), _blank(grid_code)
    check_scope(session, role, unit_code, grid_code)
    problem = security.password_problem(password)
    if problem:
        raise InvalidInput(f"the password {problem}", field="password")
    user = repo.insert_user(
        session,
        {
            "username": username,
            "display_name": _display_name(display_name or username),
            "role": role,
            "unit_code": unit_code,
            "grid_code": grid_code,
            "password_hash": security.hash_password(password),
            "password_changed_at": now,
        },
    )
    if user is None:
        raise Conflict(f"a user named {username!r} exists", field="username")
    repo.audit(
        session,
        "user_created",
        actor=by,
        target=username,
        client=client,
        detail={k: user[k] for k in ("role", "unit_code", "grid_code", "display_name")},
        at=now,
    )
    return public(user)


def change_user(
    session: Session,
    username: str,
    changes: dict[str, Any],
    *,
    by: str,
    now: datetime,
    client: str | None = None,
) -> dict[str, Any]:
    """Change an account's role, scope, display name or state (fields in CHANGEABLE).

    A change of role or scope, and disabling, ends the user's tokens: the refresh tokens are
    revoked and access tokens issued before now are refused (sessions_ended_at), so the next
    request signs in afresh under the new rules. The last active street administrator cannot
    be demoted or disabled (409): nobody could then manage accounts but the command line.
    """
    user = _existing(session, username, lock=True)
    after = {k: user[k] for k in CHANGEABLE}
    for field_name in changes.keys() & CHANGEABLE:
        value = changes[field_name]
        if field_name in ("unit_code", "grid_code"):
            value = _blank(value)
        elif field_name == "display_name":
            value = _display_name(value)
        elif field_name == "active":
            value = bool(value)
        after[field_name] = value
    changed = {k: (user[k], after[k]) for k in CHANGEABLE if user[k] != after[k]}
    scope_changed = [k for k in SCOPE_FIELDS if k in changed]
    # Checked when the scope changes or the account comes back, not for a rename or for
    # disabling: an account whose grid was retired must still be disabled.
    if scope_changed or changed.get("active") == (False, True):
        check_scope(session, after["role"], after["unit_code"], after["grid_code"])
    if not changed:
        return public(user)
    demoted = after["role"] != "street_admin" or not after["active"]
    if user["role"] == "street_admin" and user["active"] and demoted:
        if repo.other_active_admins(session, user["id"]) == 0:
            raise Conflict(
                f"{user['username']} is the last active street administrator: make another"
                " one first",
                field="role" if "role" in changed else "active",
            )
    updates = {k: after[k] for k in changed}
    if scope_changed or changed.get("active") == (True, False):
        updates["sessions_ended_at"] = now
        repo.revoke_refresh_tokens(session, now, user_id=user["id"])
    repo.update_user(session, user["id"], updates)

    def log(action: str, fields: list[str]) -> None:
        detail = {k: {"before": changed[k][0], "after": changed[k][1]} for k in fields}
        repo.audit(
            session, action, actor=by, target=user["username"], client=client, detail=detail, at=now
        )

    if scope_changed:
        log("user_scope_changed", scope_changed)
    if "display_name" in changed:
        log("user_renamed", ["display_name"])
    if "active" in changed:
        log("user_enabled" if after["active"] else "user_disabled", [])
    return public({**user, **updates})


def set_password(
    session: Session,
    username: str,
    password: str,
    *,
    by: str,
    now: datetime,
    client: str | None = None,
) -> None:
    """A new password set by an administrator; it also lifts a lock-out. Every refresh token of
    the user is revoked, and access tokens issued before now end too."""
    user = _existing(session, username, lock=True)
    problem = security.password_problem(password)
    if problem:
        raise InvalidInput(f"the password {problem}", field="password")
    revoked = _new_password(session, user, password, now)
    repo.audit(
        session,
        "password_set",
        actor=by,
        target=user["username"],
        client=client,
        detail={
            "was_locked": bool(user["locked_until"] and user["locked_until"] > now),
            "refresh_tokens_revoked": revoked,
        },
        at=now,
    )


def change_own_password(
    session: Session,
    actor: Actor,
    current: str,
    new: str,
    *,
    now: datetime,
    client: str | None,
    settings: Settings,
) -> Tokens | InvalidInput:
    """The signed-in person's new password, given the current one, and a fresh pair of tokens
    (the old ones end with the old password). A wrong current password counts towards the
    lock-out as a failed sign-in does, so a stolen access token cannot be used to guess it;
    the refusal is returned, to raise after this transaction commits."""
    refusal = InvalidInput(
        "the current password is wrong, or the account is locked for a while",
        field="current_password",
    )
    user = _existing(session, actor.name, lock=True)
    if user["locked_until"] and user["locked_until"] > now:
        repo.audit(session, "password_change_locked", actor=user["username"], client=client, at=now)
        return refusal
    if not security.verify_password(user["password_hash"], current):
        _count_failure(session, user, now, settings)
        repo.audit(session, "password_change_failed", actor=user["username"], client=client, at=now)
        return refusal
    problem = security.password_problem(new)
    if problem:
        raise InvalidInput(f"the new password {problem}", field="new_password")
    revoked = _new_password(session, user, new, now)
    repo.audit(
        session,
        "password_changed",
        actor=user["username"],
        target=user["username"],
        client=client,
        detail={"refresh_tokens_revoked": revoked},
        at=now,
    )
    return _issue(session, user, now, settings)


def disable_user(
    session: Session, username: str, *, by: str, now: datetime, client: str | None = None
) -> None:
    change_user(session, username, {"active": False}, by=by, now=now, client=client)


def list_users(
    session: Session, viewer: Actor | None = None, *, now: datetime | None = None
) -> list[dict[str, Any]]:
    """The accounts `viewer` may see, with the fields their role may see: the street office
    and the auditor every account, community staff and grid leaders the accounts whose grid
    lies in their own grid's subtree. The command line (no viewer) sees everything."""
    if viewer is None or viewer.role == "street_admin":
        return [public(u, now) for u in repo.list_users(session)]
    require(viewer, USER_READERS, "list accounts")
    if viewer.role == "auditor":
        return [_view(u, AUDITOR_VIEW, now) for u in repo.list_users(session)]
    if not viewer.grid_code:  # an account made before grids were required sees no one
        return []
    return [_view(u, STAFF_VIEW, now) for u in repo.list_users(session, in_grid=viewer.grid_code)]


def get_account(session: Session, username: str, now: datetime | None = None) -> dict[str, Any]:
    """One account as the administrator sees it."""
    return public(_existing(session, username), now)


def whoami(session: Session, token: str, *, now: datetime, settings: Settings) -> dict[str, Any]:
    """The signed-in person's own account: name, display name, role and scope."""
    actor = actor_from_token(session, token, now=now, settings=settings)
    return _view(_existing(session, actor.name), ME_VIEW, now)


def audit_log(
    session: Session,
    *,
    action: str | None = None,
    actor: str | None = None,
    since: datetime | None = None,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """Audit entries newest first (times in Beijing time)."""
    entries = repo.audit_entries(session, action=action, actor=actor, since=since, limit=limit)
    return [{**e, "at": e["at"].astimezone(TIME_ZONE)} for e in entries]


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
        _count_failure(session, user, now, settings)
        repo.audit(session, "sign_in_failed", actor=user["username"], client=client, at=now)
        return refusal
    repo.update_user(session, user["id"], {"failed_logins": 0, "locked_until": None})
    repo.audit(session, "sign_in", actor=user["username"], client=client, at=now)
    return _issue(session, user, now, settings)


def refresh(
    session: Session,
    refresh_token: str,
    *,
    now: datetime,
    settings: Settings,
    client: str | None = None,
) -> Tokens | NotAuthenticated:
    """A new pair for a valid refresh token, which is used up (rotation). A used-up token
    presented again means it was copied: every refresh token of that user is revoked (the
    caller raises the refusal after this transaction commits)."""
    refusal = NotAuthenticated(
        "the refresh token is unknown, revoked or expired: sign in again", field="refresh_token"
    )
    row, user = _take_refresh_token(session, refresh_token)
    if row is None or user is None or row["expires_at"] <= now:
        return refusal
    if row["revoked_at"] is not None:
        repo.revoke_refresh_tokens(session, now, user_id=user["id"])
        repo.audit(session, "refresh_token_reused", actor=user["username"], client=client, at=now)
        return refusal
    if not user["active"] or _sessions_ended(user, row["created_at"].timestamp()):
        return refusal
    repo.revoke_refresh_tokens(session, now, token_id=row["id"])
    return _issue(session, user, now, settings)


def revoke(
    session: Session, refresh_token: str, *, now: datetime, client: str | None = None
) -> None:
    row, user = _take_refresh_token(session, refresh_token)
    if row is not None and row["revoked_at"] is None:
        repo.revoke_refresh_tokens(session, now, token_id=row["id"])
        who = user["username"] if user else None
        repo.audit(session, "token_revoked", actor=who, client=client, at=now)


def _take_refresh_token(
    session: Session, refresh_token: str
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """A refresh token's row and its user, both locked: the user first, as every account
    change locks them (a refresh racing a password change would otherwise deadlock)."""
    digest = security.token_digest(refresh_token)
    owner = repo.refresh_token_owner(session, digest)
    if owner is None:
        return None, None
    user = repo.get_user_by_id(session, owner, lock=True)
    return repo.take_refresh_token(session, digest), user


def _sessions_ended(user: dict[str, Any], issued: float) -> bool:
    """Whether a password change, or a change of role or scope, ended a token issued then."""
    ended = user["sessions_ended_at"]
    return issued < user["password_changed_at"].timestamp() or (
        ended is not None and issued < ended.timestamp()
    )


def actor_from_token(session: Session, token: str, *, now: datetime, settings: Settings) -> Actor:
    """The signed-in person, if the token is valid, unexpired and the account still stands."""
    claims = security.read_access_token(token, signing_key(settings), now)
    user = repo.get_user(session, str(claims["sub"])) if claims else None
    if claims is None or user is None or not user["active"] or _sessions_ended(user, claims["iat"]):
        raise NotAuthenticated("sign in again: the access token is invalid or expired")
    return Actor(
        user_id=user["id"],
        name=user["username"],
        role=user["role"],
        unit_code=user["unit_code"],
        grid_code=user["grid_code"],
    )


def public(user: dict[str, Any], now: datetime | None = None) -> dict[str, Any]:
    """An account as the administrator sees it: everything but the password hash."""
    return _view(user, (*(k for k in user if k != "password_hash"), "locked"), now)


def access_token(user: dict[str, Any], now: datetime, settings: Settings) -> str:
    return security.sign_access_token(
        {"sub": user["username"], "role": user["role"]},
        signing_key(settings),
        now,
        settings.access_token_minutes,
    )


def _issue(session: Session, user: dict[str, Any], now: datetime, settings: Settings) -> Tokens:
    access = access_token(user, now, settings)
    refresh_token = security.new_refresh_token()
    repo.insert_refresh_token(
        session,
        user["id"],
        security.token_digest(refresh_token),
        now,
        now + timedelta(days=settings.refresh_token_days),
    )
    return Tokens(access, refresh_token, settings.access_token_minutes * 60)


def _existing(session: Session, username: str, *, lock: bool = False) -> dict[str, Any]:
    user = repo.get_user(session, username.strip().lower(), lock=lock)
    if user is None:
        raise NotFound(f"no user named {username!r}", field="username")
    return user


def _count_failure(
    session: Session, user: dict[str, Any], now: datetime, settings: Settings
) -> None:
    """One more wrong password; `max_failed_logins` in a row lock the account for a while."""
    failed = user["failed_logins"] + 1
    changes: dict[str, Any] = {"failed_logins": failed}
    if failed >= settings.max_failed_logins:
        changes.update(
            failed_logins=0, locked_until=now + timedelta(minutes=settings.lockout_minutes)
        )
    repo.update_user(session, user["id"], changes)


def _new_password(session: Session, user: dict[str, Any], password: str, now: datetime) -> int:
    """Store a new password, lift a lock-out, end the user's tokens; how many refresh tokens
    were revoked."""
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
    return repo.revoke_refresh_tokens(session, now, user_id=user["id"])


def _locked(user: dict[str, Any], now: datetime | None) -> bool:
    until = user["locked_until"]
    return bool(until and until > (now or datetime.now(TIME_ZONE)))


def _view(user: dict[str, Any], fields: tuple[str, ...], now: datetime | None) -> dict[str, Any]:
    """The fields asked for, "locked" worked out, times in Beijing time."""
    full = {**user, "locked": _locked(user, now)}
    return {
        k: full[k].astimezone(TIME_ZONE) if isinstance(full[k], datetime) else full[k]
        for k in fields
    }


def _either(words: list[str]) -> str:
    """Joined as in prose: a; a or b; a, b or c."""
    return " or ".join([", ".join(words[:-1]), words[-1]] if len(words) > 1 else words)


def _blank(code: str | None) -> str | None:
    """A code as given, with an empty one meaning none."""
    if code is None:
        return None
    return code.strip() or None


def _display_name(name: str | None) -> str:
    text = (name or "").strip()
    if not text or any(ord(c) < 32 for c in text):
        raise InvalidInput(
            "the display name must be some text without control characters",
            field="display_name",
        )
    return text


_DUMMY_HASH = security.hash_password(secrets.token_urlsafe(16))
