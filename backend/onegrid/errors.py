"""Domain exceptions and the one table that maps them to HTTP answers.

Services raise these; only ``main.py`` knows about HTTP. Every error names what was
wrong and where (field, feature index, reason) so a user can fix the input.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any


class OneGridError(Exception):
    """Base class: a message for people plus structured details for programs."""

    def __init__(self, message: str, *, field: str | None = None, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.details = details

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"error": type(self).__name__, "message": self.message}
        if self.field:
            body["field"] = self.field
        body.update({k: v for k, v in self.details.items() if v is not None})
        return body


class InvalidInput(OneGridError):
    """A value that cannot be used as given (wrong type, out of range, unreadable)."""


class InvalidGeometry(InvalidInput):
    """A geometry that is not valid (unclosed ring, self-intersection, too few points...)."""


class InvalidCoordinates(InvalidInput):
    """Coordinates outside the valid range, swapped axes, or outside the area served."""


class UnknownCRS(InvalidInput):
    """A coordinate reference system we cannot convert from."""


class NotFound(OneGridError):
    """Base for missing objects."""


class GridNotFound(NotFound):
    pass


class CaseNotFound(NotFound):
    pass


class AttachmentNotFound(NotFound):
    pass


class Conflict(OneGridError):
    """The request clashes with what is stored (duplicate code, topology rule)."""


class TransitionNotAllowed(Conflict):
    """A workflow move the case's state or the actor's role does not allow."""


class StaleVersion(Conflict):
    """Someone else changed the case since the version the request was based on."""


class TopologyError(Conflict):
    """A grid would break the hierarchy: outside its parent, or overlapping a sibling."""


class NotAuthenticated(OneGridError):
    """No valid credentials: a wrong password, a locked or disabled account, a bad token."""


class Forbidden(OneGridError):
    """The person's role may not use this at all (an object outside their scope is NotFound)."""


class DatabaseUnavailable(OneGridError):
    """PostGIS cannot be reached or set up."""


class TooManyRequests(OneGridError):
    """One client asked too often; it may try again after `retry_after_s` seconds."""

    def __init__(self, message: str, *, retry_after_s: int, **details: Any) -> None:
        super().__init__(message, retry_after_s=retry_after_s, **details)
        self.retry_after_s = retry_after_s


# The single exception -> HTTP status table (checked in order: most specific first).
HTTP_STATUS: list[tuple[type[OneGridError], int]] = [
    (NotAuthenticated, 401),
    (Forbidden, 403),
    (NotFound, 404),
    (Conflict, 409),
    (InvalidInput, 422),
    (TooManyRequests, 429),
    (DatabaseUnavailable, 503),
    (OneGridError, 400),
]


def http_status_for(error: OneGridError) -> int:
    for kind, status in HTTP_STATUS:
        if isinstance(error, kind):
            return status
    return 400


@dataclass(frozen=True)
class Rejection:
    """One input row or feature an import will not store, and why."""

    index: int  # 0-based feature index, or the 1-based data row number for CSV (see `row`)
    reason: str
    field: str | None = None
    code: str | None = None  # the feature's own code/id when it has one
    row: int | None = None  # CSV: line number in the file (header = line 1)
    extra: dict[str, Any] = dataclass_field(default_factory=dict)

    def describe(self) -> str:
        where = f"row {self.row}" if self.row is not None else f"feature {self.index}"
        if self.code:
            where += f" ({self.code})"
        what = f"{self.field}: " if self.field else ""
        return f"{where}: {what}{self.reason}"
