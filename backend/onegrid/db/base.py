"""Declarative base and the assignment columns shared by cases and places."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, DateTime, Float, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

LEVELS = ("street", "second", "third", "micro", "dedicated")
COMPREHENSIVE_LEVELS = ("street", "second", "third", "micro")
PARENT_LEVEL = {"second": "street", "third": "second", "micro": "third", "dedicated": "street"}


class Base(DeclarativeBase):
    pass


class AssignedGrids:
    """One grid per level, the responsible grid, and how the assignment was decided."""

    street_grid_id: Mapped[int | None] = mapped_column(BigInteger)
    second_grid_id: Mapped[int | None] = mapped_column(BigInteger)
    third_grid_id: Mapped[int | None] = mapped_column(BigInteger)
    micro_grid_id: Mapped[int | None] = mapped_column(BigInteger)
    dedicated_grid_id: Mapped[int | None] = mapped_column(BigInteger)
    responsible_grid_id: Mapped[int | None] = mapped_column(BigInteger)
    assignment_rule: Mapped[str | None] = mapped_column(Text)
    on_boundary: Mapped[bool] = mapped_column(Boolean, default=False)
    outside_coverage: Mapped[bool] = mapped_column(Boolean, default=False)
    nearest_grid_id: Mapped[int | None] = mapped_column(BigInteger)
    nearest_m: Mapped[float | None] = mapped_column(Float)
    assigned_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


# The columns grid_assignment() returns, in order (see the foundation migration).
ASSIGNMENT_FIELDS = (
    "street_grid_id",
    "second_grid_id",
    "third_grid_id",
    "micro_grid_id",
    "dedicated_grid_id",
    "responsible_grid_id",
    "assignment_rule",
    "on_boundary",
    "outside_coverage",
    "nearest_grid_id",
    "nearest_m",
)
ASSIGNMENT_COLUMNS = ", ".join(ASSIGNMENT_FIELDS)
# The same columns read from a grid_assignment() row aliased `a`.
ASSIGNMENT_FROM_A = ", ".join(f"a.{f}" for f in ASSIGNMENT_FIELDS)
