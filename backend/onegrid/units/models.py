"""Units that handle cases: departments, street offices, territories, property companies."""

from __future__ import annotations

from sqlalchemy import Boolean, Text
from sqlalchemy.orm import Mapped, mapped_column

from onegrid.db.base import Base

UNIT_KINDS = (
    "department",  # district departments and enterprises sunk into the street
    "street_office",  # the street's own offices
    "street",  # territory: the street itself (属地兜底, last resort)
    "community",  # territory: a community (second-level grid)
    "property_company",  # manages or has claimed courtyards (红色物业)
    "dedicated_unit",  # the school, hospital or big unit behind a dedicated grid
)


class Unit(Base):
    __tablename__ = "units"

    code: Mapped[str] = mapped_column(Text, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(Text)
    grid_code: Mapped[str | None] = mapped_column(Text)
    phone: Mapped[str | None] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    party_branch: Mapped[str | None] = mapped_column(Text)  # a property company's 党支部
