"""Sign-in (OAuth2 password flow), token refresh and revocation, who am I, one's own password;
and for the street office: accounts (/api/users) and the audit log (/api/audit)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.security import OAuth2PasswordBearer, OAuth2PasswordRequestForm
from pydantic import BaseModel, ConfigDict, Field, StrictBool

from onegrid.api.deps import ActorDep, ClockDep, SessionDep, SettingsDep, in_transaction
from onegrid.auth import service
from onegrid.cases.deadlines import parse_moment
from onegrid.errors import InvalidInput, NotAuthenticated

router = APIRouter(prefix="/api", tags=["auth"])
bearer = OAuth2PasswordBearer(tokenUrl="/api/auth/token", auto_error=False)

Username = Annotated[str, Path(min_length=1, max_length=64)]
Code = Annotated[str | None, Field(max_length=100)]
DisplayName = Annotated[str | None, Field(min_length=1, max_length=100)]
Password = Annotated[str, Field(max_length=1000)]  # argon2 hashes any length; bound the work


class TokenAnswer(BaseModel):
    access_token: str
    refresh_token: str
    token_type: str
    expires_in: int


class RefreshRequest(BaseModel):
    refresh_token: str = Field(min_length=10, max_length=200)


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(max_length=64)
    password: Password
    role: str = Field(max_length=40)
    display_name: DisplayName = None
    unit_code: Code = None
    grid_code: Code = None


class UserUpdate(BaseModel):
    """Only the fields sent change; send null to clear unit_code or grid_code."""

    model_config = ConfigDict(extra="forbid")

    role: str | None = Field(None, max_length=40)
    unit_code: Code = None
    grid_code: Code = None
    display_name: DisplayName = None
    active: StrictBool | None = None


class PasswordSet(BaseModel):
    model_config = ConfigDict(extra="forbid")

    password: Password


class PasswordChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    current_password: Password
    new_password: Password


def _client(request: Request) -> str | None:
    return request.client.host if request.client else None


@router.post("/auth/token", response_model=TokenAnswer)
async def sign_in(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    request: Request,
    settings: SettingsDep,
    now: ClockDep,
) -> dict:
    """Exchange a user name and password for an access token and a refresh token."""
    limits = request.app.state.client_limits
    limits.check(request, limits.sign_ins, "sign-in attempts")
    client = _client(request)
    result = await in_transaction(
        request,
        lambda session: service.sign_in(
            session, form.username, form.password, now=now, client=client, settings=settings
        ),
        checks_password=True,
    )
    if isinstance(result, NotAuthenticated):
        raise result  # after the commit: the failed attempt counts towards the lock-out
    return vars(result)


@router.post("/auth/refresh", response_model=TokenAnswer)
async def refresh(
    body: RefreshRequest, request: Request, settings: SettingsDep, now: ClockDep
) -> dict:
    """A new pair for a refresh token, which cannot be used again."""
    result = await in_transaction(
        request,
        lambda session: service.refresh(
            session, body.refresh_token, now=now, settings=settings, client=_client(request)
        ),
    )
    if isinstance(result, NotAuthenticated):
        raise result  # after the commit: a reused token has revoked its family
    return vars(result)


@router.post("/auth/revoke", status_code=204)
async def revoke(body: RefreshRequest, request: Request, now: ClockDep) -> None:
    """Sign out: the refresh token stops working at once (an access token already issued
    lives until it expires, at most ONEGRID_ACCESS_TOKEN_MINUTES)."""
    await in_transaction(
        request,
        lambda session: service.revoke(
            session, body.refresh_token, now=now, client=_client(request)
        ),
    )


@router.get("/auth/me")
async def me(
    request: Request,
    settings: SettingsDep,
    now: ClockDep,
    token: Annotated[str | None, Depends(bearer)],
) -> dict:
    """The signed-in person's user name, display name, role and scope (unit or grid)."""
    if not token:
        raise NotAuthenticated("sign in first: no bearer token")
    return await in_transaction(
        request, lambda session: service.whoami(session, token, now=now, settings=settings)
    )


@router.post("/auth/password", response_model=TokenAnswer)
async def change_own_password(
    body: PasswordChange,
    actor: ActorDep,
    request: Request,
    settings: SettingsDep,
    now: ClockDep,
) -> dict:
    """Change one's own password, given the current one. Every earlier token ends; the answer
    is a fresh pair."""
    client = _client(request)
    result = await in_transaction(
        request,
        lambda session: service.change_own_password(
            session,
            actor,
            body.current_password,
            body.new_password,
            now=now,
            client=client,
            settings=settings,
        ),
        checks_password=True,
    )
    if isinstance(result, InvalidInput):
        raise result  # after the commit: the wrong guess counts towards the lock-out
    return vars(result)


# --- accounts and the audit log ----------------------------------------------------------------


@router.get("/users", tags=["accounts"])
def list_users(session: SessionDep, actor: ActorDep, now: ClockDep) -> list[dict[str, Any]]:
    """Accounts: the street administrator and the auditor see all of them; community staff
    and grid leaders those whose grid lies in their own grid's subtree; others may not."""
    return service.list_users(session, actor, now=now)


@router.post("/users", status_code=201, tags=["accounts"])
def create_user(
    body: UserCreate, session: SessionDep, actor: ActorDep, request: Request, now: ClockDep
) -> dict[str, Any]:
    """Create an account (street administrator only)."""
    service.require(actor, service.ADMINS, "create accounts")
    return service.create_user(
        session,
        **body.model_dump(),
        by=actor.name,
        now=now,
        client=_client(request),
    )


@router.patch("/users/{username}", tags=["accounts"])
def change_user(
    username: Username,
    body: UserUpdate,
    session: SessionDep,
    actor: ActorDep,
    request: Request,
    now: ClockDep,
) -> dict[str, Any]:
    """Change role, scope, display name or state (street administrator only). A change of
    role or scope, or disabling, ends the user's tokens."""
    service.require(actor, service.ADMINS, "change accounts")
    changes = body.model_dump(exclude_unset=True)
    for name in ("role", "display_name", "active"):
        if name in changes and changes[name] is None:
            raise InvalidInput(f"{name} cannot be null", field=name)
    return service.change_user(
        session, username, changes, by=actor.name, now=now, client=_client(request)
    )


@router.post("/users/{username}/password", status_code=204, tags=["accounts"])
def set_password(
    username: Username,
    body: PasswordSet,
    session: SessionDep,
    actor: ActorDep,
    request: Request,
    now: ClockDep,
) -> None:
    """Set a user's password (street administrator only); it lifts a lock-out and ends the
    user's tokens."""
    service.require(actor, service.ADMINS, "set passwords")
    service.set_password(
        session, username, body.password, by=actor.name, now=now, client=_client(request)
    )


@router.get("/audit", tags=["accounts"])
def audit_log(
    session: SessionDep,
    actor: ActorDep,
    action: Annotated[str | None, Query(max_length=100)] = None,
    by: Annotated[str | None, Query(alias="actor", max_length=200)] = None,
    since: Annotated[
        str | None, Query(description="2026-01-01 or 2026-01-01T08:00 (Beijing time)")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[dict[str, Any]]:
    """Audit entries newest first: who, when, what, from where (street administrator and
    auditor)."""
    service.require(actor, service.AUDIT_READERS, "read the audit log")
    moment: datetime | None = parse_moment(since, "since") if since else None
    return service.audit_log(session, action=action, actor=by, since=moment, limit=limit)
