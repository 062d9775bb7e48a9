"""Passwords (argon2id) and tokens: short-lived signed access tokens, opaque refresh tokens."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

# argon2id with the library's current defaults (memory-hard: 64 MiB, 3 passes).
_hasher = PasswordHasher()
ALGORITHM = "HS256"
MIN_PASSWORD_LENGTH = 10
CLOCK_SKEW_S = 60


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def password_problem(password: str) -> str | None:
    """Why a new password is refused, or None."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"must have at least {MIN_PASSWORD_LENGTH} characters"
    if password.isdigit() or password.lower() == password.lower()[0] * len(password):
        return "must not be only digits or one repeated character"
    return None


def new_refresh_token() -> str:
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def sign_access_token(claims: dict[str, Any], key: str, now: datetime, minutes: int) -> str:
    # iat to the microsecond: a token signed in the second a password changed, but before
    # the change, must end with it.
    payload = {**claims, "iat": now.timestamp(), "exp": now + timedelta(minutes=minutes)}
    return jwt.encode(payload, key, algorithm=ALGORITHM)


def read_access_token(token: str, key: str, now: datetime) -> dict[str, Any] | None:
    """The claims of a valid, unexpired token signed with `key`; None otherwise."""
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=[ALGORITHM],
            # Expiry and issue time are judged by the app's clock below, not the wall clock.
            options={"require": ["exp", "iat", "sub"], "verify_exp": False, "verify_iat": False},
        )
    except jwt.PyJWTError:
        return None
    # A token from a server whose clock runs a little ahead is not from the future.
    issued_ok = claims["iat"] <= now.timestamp() + CLOCK_SKEW_S
    return claims if issued_ok and now.timestamp() < claims["exp"] else None
