"""Accounts: a moment before which a user's access tokens no longer count.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

UPGRADE = """
-- Set when an administrator changes a user's role or scope or disables the account: access
-- tokens issued before it are refused (refresh tokens are revoked at the same time). Kept apart
-- from password_changed_at, which keeps saying when the password last changed.
ALTER TABLE users ADD COLUMN sessions_ended_at timestamptz;

-- The audit page filters by action and by actor, newest first.
CREATE INDEX audit_log_action_idx ON audit_log (action, id);
CREATE INDEX audit_log_actor_idx ON audit_log (actor, id);
"""

DOWNGRADE = """
DROP INDEX IF EXISTS audit_log_actor_idx;
DROP INDEX IF EXISTS audit_log_action_idx;
ALTER TABLE users DROP COLUMN IF EXISTS sessions_ended_at;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
