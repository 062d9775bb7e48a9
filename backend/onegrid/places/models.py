"""The place table: one row per building, courtyard, merchant, enterprise, site or unit."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from geoalchemy2 import Geometry
from sqlalchemy import BigInteger, Boolean, Date, DateTime, ForeignKey, Integer, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from onegrid.db.base import AssignedGrids, Base

# Each kind and its natural geometry ("either": a point, or the building it occupies).
PLACE_KINDS = {
    "building": "polygon",
    "courtyard": "polygon",
    "site": "polygon",
    "merchant": "point",
    "enterprise": "either",
    "resident_unit": "either",
}
MANAGEMENT_STATUSES = ("property_managed", "unmanaged", "red_property")


class Place(AssignedGrids, Base):
    __tablename__ = "places"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    kind: Mapped[str] = mapped_column(Text)
    code: Mapped[str | None] = mapped_column(Text)
    name: Mapped[str | None] = mapped_column(Text)
    management_status: Mapped[str | None] = mapped_column(Text)
    manager_unit_code: Mapped[str | None] = mapped_column(ForeignKey("units.code"))
    properties: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    geom: Mapped[Any] = mapped_column(Geometry("GEOMETRY", srid=4326, spatial_index=False))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    address: Mapped[str | None] = mapped_column(Text)
    households: Mapped[int | None] = mapped_column(Integer)  # buildings, courtyards
    residents: Mapped[int | None] = mapped_column(Integer)
    licence_no: Mapped[str | None] = mapped_column(Text)  # merchants, enterprises
    trade: Mapped[str | None] = mapped_column(Text)
    contact_unit_code: Mapped[str | None] = mapped_column(ForeignKey("units.code"))
    key_tax_source: Mapped[bool] = mapped_column(Boolean, default=False)  # enterprises
    above_scale: Mapped[bool] = mapped_column(Boolean, default=False)
    service_officer: Mapped[str | None] = mapped_column(Text)
    starts_on: Mapped[date | None] = mapped_column(Date)  # project sites
    ends_on: Mapped[date | None] = mapped_column(Date)
    updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_by: Mapped[str | None] = mapped_column(Text)
