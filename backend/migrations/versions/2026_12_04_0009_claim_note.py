"""The note a property company (or the street on its behalf) writes with a claim.

Revision ID: 0009
Revises: 0007
Create Date: 2026-12-04
"""

from alembic import op

revision = "0009"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # What the claimant says with the claim (认领说明); the street's answer is decision_note.
    op.execute("ALTER TABLE courtyard_claims ADD COLUMN note text")


def downgrade() -> None:
    op.execute("ALTER TABLE courtyard_claims DROP COLUMN IF EXISTS note")
