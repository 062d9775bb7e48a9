"""Drop the geography index on open cases: a box on the geometry index does its work.

Duplicate suggestions now find candidates with the plain GiST index on geom (a box sized
in metres) and measure on the spheroid; the expression index cost a geography cast and a
second GiST insert for every new case, on every import and every report.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("DROP INDEX IF EXISTS cases_open_geog_idx")


def downgrade() -> None:
    op.execute(
        "CREATE INDEX cases_open_geog_idx ON cases USING gist ((geom::geography))"
        " WHERE status NOT IN ('closed', 'evaluated', 'voided', 'merged')"
    )
