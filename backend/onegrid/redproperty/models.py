"""A claim of an unmanaged courtyard by a property company, from request to end."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, DateTime, ForeignKey, Text
from sqlalchemy.orm import Mapped, mapped_column

from onegrid.db.base import Base

CLAIM_STATUSES = ("pending", "approved", "rejected", "ended")
OPEN_STATUSES = ("pending", "approved")


class CourtyardClaim(Base):
    __tablename__ = "courtyard_claims"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    courtyard_id: Mapped[int] = mapped_column(ForeignKey("places.id"))
    company_code: Mapped[str] = mapped_column(ForeignKey("units.code"))
    status: Mapped[str] = mapped_column(Text)
    claimed_on: Mapped[date] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text)  # the claimant's words (认领说明)
    requested_by: Mapped[str] = mapped_column(Text)
    requested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    decided_by: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decision_note: Mapped[str | None] = mapped_column(Text)
    ended_on: Mapped[date | None] = mapped_column(Date)
    ended_by: Mapped[str | None] = mapped_column(Text)
    end_reason: Mapped[str | None] = mapped_column(Text)
