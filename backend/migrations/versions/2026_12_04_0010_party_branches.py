"""Property companies: the party branch each has (物业党支部), which the street's red-property
work reports on.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04
"""

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

UPGRADE = """
ALTER TABLE units ADD COLUMN party_branch text
    CHECK (party_branch IS NULL OR (kind = 'property_company' AND btrim(party_branch) <> ''));
"""

DOWNGRADE = """
ALTER TABLE units DROP COLUMN IF EXISTS party_branch;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
