"""A visit to an enterprise and the problems raised in it (each may become a case)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, DateTime, ForeignKey, Text
from sqlalchemy.orm import Mapped, mapped_column

from onegrid.db.base import Base


class EnterpriseVisit(Base):
    __tablename__ = "enterprise_visits"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("places.id"))
    visited_on: Mapped[date] = mapped_column(Date)
    officer: Mapped[str] = mapped_column(Text)
    discussed: Mapped[str] = mapped_column(Text)
    recorded_by: Mapped[str] = mapped_column(Text)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class VisitProblem(Base):
    __tablename__ = "visit_problems"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("enterprise_visits.id"))
    description: Mapped[str] = mapped_column(Text)
    category_code: Mapped[str | None] = mapped_column(ForeignKey("case_categories.code"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
