"""The ORM models describe the tables Alembic made: no column missing on either side."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from onegrid.auth.models import AuditEntry, RefreshToken, User
from onegrid.cases.models import Attachment, Case, CaseCategory, CaseEvent, IdempotencyKey
from onegrid.duties.models import GridStaff, ResponsibilityAssignment, ResponsibilityItem, UnitGrid
from onegrid.enterprises.models import EnterpriseVisit, VisitProblem
from onegrid.grids.models import Grid
from onegrid.places.models import Place
from onegrid.redproperty.models import CourtyardClaim
from onegrid.units.models import Unit


@pytest.mark.parametrize(
    "model",
    [
        *(Grid, Case, Place, CaseEvent, Attachment, IdempotencyKey, CaseCategory, Unit),
        *(User, RefreshToken, AuditEntry),
        *(CourtyardClaim, EnterpriseVisit, VisitProblem),
        *(ResponsibilityItem, ResponsibilityAssignment, GridStaff, UnitGrid),
    ],
)
def test_model_columns_are_the_migrated_columns(session, model):
    table = model.__table__.name
    migrated = set(
        session.execute(
            sa.text("SELECT column_name FROM information_schema.columns WHERE table_name = :t"),
            {"t": table},
        ).scalars()
    )
    assert set(model.__table__.columns.keys()) == migrated
