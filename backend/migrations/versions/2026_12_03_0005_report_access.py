"""Access to reports: who reported a case (an account), and the token a resident follows it by.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

UPGRADE = """
-- A resident sees the cases their account reported; the free-text reporter of an imported
-- case can never grant that.
ALTER TABLE cases ADD COLUMN reporter_user_id bigint REFERENCES users (id);
CREATE INDEX cases_reporter_user_idx ON cases (reporter_user_id)
    WHERE reporter_user_id IS NOT NULL;

-- A report made without an account is followed with a token given once; only its hash is kept.
ALTER TABLE cases ADD COLUMN follow_token_sha256 text;
CREATE UNIQUE INDEX cases_follow_token_idx ON cases (follow_token_sha256)
    WHERE follow_token_sha256 IS NOT NULL;
"""

DOWNGRADE = """
ALTER TABLE cases DROP COLUMN IF EXISTS follow_token_sha256;
ALTER TABLE cases DROP COLUMN IF EXISTS reporter_user_id;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
