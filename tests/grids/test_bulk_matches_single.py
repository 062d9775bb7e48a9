"""Bulk imports and single reports decide alike: one rule, gathered two ways."""

from __future__ import annotations

import sqlalchemy as sa
from tests.helpers import DIFFERENCES

from onegrid.db.engine import make_engine


def test_every_demo_case_gets_from_the_bulk_import_what_a_single_report_would(
    demo_database_url,
):
    engine = make_engine(demo_database_url)
    with engine.connect() as conn:
        total = conn.scalar(sa.text("SELECT count(*) FROM cases"))
        differing = conn.execute(sa.text(DIFFERENCES)).scalars().all()
        kinds = dict(
            conn.execute(sa.text("SELECT assignment_rule, count(*) FROM cases GROUP BY 1")).all()
        )
        flagged = conn.scalar(sa.text("SELECT count(*) FROM cases WHERE on_boundary"))
    engine.dispose()
    assert total > 5000
    assert differing == []
    # The demo exercises every branch of the rule, so the comparison means something.
    assert {"covered", "shared_boundary_tiebreak", "outside_coverage"} <= set(kinds)
    assert flagged > 0
