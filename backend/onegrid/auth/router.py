"""Sign-in (OAuth2 password flow), token refresh and revocation, and who am I."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.security import OAuth2PasswordBearer, OAuth2PasswordRequestForm
from pydantic import BaseModel, Field

from onegrid.api.deps import ClockDep, SettingsDep, in_transaction
from onegrid.auth import service
from onegrid.errors import NotAuthenticated

router = APIRouter(prefix="/api/auth", tags=["auth"])
bearer = OAuth2PasswordBearer(tokenUrl="/api/auth/token", auto_error=False)


class TokenAnswer(BaseModel):
    access_token: str
    refresh_token: str
    token_type: str
    expires_in: int


class RefreshRequest(BaseModel):
    refresh_token: str = Field(min_length=10, max_length=200)


@router.post("/token", response_model=TokenAnswer)
async def sign_in(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    request: Request,
    settings: SettingsDep,
    now: ClockDep,
) -> dict:
    """Exchange a user name and password for an access token and a refresh token."""
    client = request.client.host if request.client else None
    result = await in_transaction(
        request,
        lambda session: service.sign_in(
            session, form.username, form.password, now=now, client=client, settings=settings
        ),
    )
    if isinstance(result, NotAuthenticated):
        raise result  # after the commit: the failed attempt counts towards the lock-out
    return vars(result)


@router.post("/refresh", response_model=TokenAnswer)
async def refresh(
    body: RefreshRequest, request: Request, settings: SettingsDep, now: ClockDep
) -> dict:
    """A new pair for a refresh token, which cannot be used again."""
    result = await in_transaction(
        request,
        lambda session: service.refresh(session, body.refresh_token, now=now, settings=settings),
    )
    if isinstance(result, NotAuthenticated):
        raise result  # after the commit: a reused token has revoked its family
    return vars(result)


@router.post("/revoke", status_code=204)
async def revoke(body: RefreshRequest, request: Request, now: ClockDep) -> None:
    """Sign out: the refresh token stops working at once (an access token already issued
    lives until it expires, at most ONEGRID_ACCESS_TOKEN_MINUTES)."""
    await in_transaction(
        request, lambda session: service.revoke(session, body.refresh_token, now=now)
    )


@router.get("/me")
async def me(
    request: Request,
    settings: SettingsDep,
    now: ClockDep,
    token: Annotated[str | None, Depends(bearer)],
) -> dict:
    """The signed-in person's name, role and unit."""
    if not token:
        raise NotAuthenticated("sign in first: no bearer token")
    actor = await in_transaction(
        request,
        lambda session: service.actor_from_token(session, token, now=now, settings=settings),
    )
    return {"username": actor.name, "role": actor.role, "unit_code": actor.unit_code}
