"""Responsibility items and where they apply; grid staff; the grids a unit serves."""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, ForeignKey, Text
from sqlalchemy.orm import Mapped, mapped_column

from onegrid.db.base import Base

RESPONSIBLE_LEVELS = ("grid", "community", "street", "department")
STAFF_DUTIES = {
    "grid_leader": "网格长",
    "full_time_worker": "专职网格员",
    "part_time_worker": "兼职网格员",
    "sunk_staff": "下沉人员",
    "police": "社区民警",
    "instructor": "网格指导员",
}


class ResponsibilityItem(Base):
    __tablename__ = "responsibility_items"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    code: Mapped[str] = mapped_column(Text)
    name: Mapped[str] = mapped_column(Text)
    responsible_level: Mapped[str] = mapped_column(Text)
    on_the_spot: Mapped[bool] = mapped_column(Boolean, default=False)
    time_limit: Mapped[str | None] = mapped_column(Text)
    category_code: Mapped[str | None] = mapped_column(ForeignKey("case_categories.code"))
    department_code: Mapped[str | None] = mapped_column(ForeignKey("units.code"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class ResponsibilityAssignment(Base):
    __tablename__ = "responsibility_assignments"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("responsibility_items.id"))
    grid_code: Mapped[str | None] = mapped_column(Text)
    unit_code: Mapped[str | None] = mapped_column(ForeignKey("units.code"))


class GridStaff(Base):
    __tablename__ = "grid_staff"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    grid_code: Mapped[str] = mapped_column(Text)
    name: Mapped[str] = mapped_column(Text)
    duty: Mapped[str] = mapped_column(Text)
    unit_code: Mapped[str | None] = mapped_column(ForeignKey("units.code"))
    phone: Mapped[str | None] = mapped_column(Text)
    username: Mapped[str | None] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class UnitGrid(Base):
    __tablename__ = "unit_grids"

    unit_code: Mapped[str] = mapped_column(ForeignKey("units.code"), primary_key=True)
    grid_code: Mapped[str] = mapped_column(Text, primary_key=True)
