"""Case workflow: units, the category taxonomy, workflow columns, immutable events,
attachments and idempotency keys.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-03
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

STATUSES = (
    "reported",
    "returned",
    "screened",
    "filed",
    "dispatched",
    "handling",
    "reported_back",
    "verified",
    "closed",
    "evaluated",
    "parked",
    "voided",
    "merged",
)
STATUS_LIST = ", ".join(f"'{s}'" for s in STATUSES)

UPGRADE = f"""
-- Who handles cases: district departments, the street's own offices, communities, property
-- companies and the units behind dedicated grids. Territory units point at their grid by
-- code (codes outlive boundary versions).
CREATE TABLE units (
    code text PRIMARY KEY CHECK (btrim(code) <> ''),
    name text NOT NULL,
    kind text NOT NULL CHECK (kind IN
        ('department', 'street_office', 'street', 'community', 'property_company',
         'dedicated_unit')),
    grid_code text,
    phone text,
    active boolean NOT NULL DEFAULT true
);
CREATE UNIQUE INDEX units_territory ON units (kind, grid_code) WHERE grid_code IS NOT NULL;

-- Two-level taxonomy (major class / minor type), 5-digit type codes, editable seed data.
CREATE TABLE case_categories (
    code text PRIMARY KEY CHECK (code ~ '^[0-9]{{5}}$'),
    major_code text NOT NULL CHECK (major_code = left(code, 2)),
    major_name text NOT NULL,
    name text NOT NULL,
    kind text NOT NULL CHECK (kind IN ('component', 'event')),
    department_code text NOT NULL REFERENCES units (code),
    file_limit text NOT NULL,
    handle_limit text NOT NULL,
    verify_limit text NOT NULL,
    urgent boolean NOT NULL DEFAULT false,
    property_may_handle boolean NOT NULL DEFAULT false,
    self_handle_allowed boolean NOT NULL DEFAULT false
);

-- The property company that manages or has claimed a courtyard (红色物业).
ALTER TABLE places ADD COLUMN manager_unit_code text REFERENCES units (code);

-- Imported files carry their own status words; the workflow keeps its own states.
UPDATE cases SET properties = properties || jsonb_build_object('source_status', status)
WHERE status NOT IN ({STATUS_LIST});
UPDATE cases SET status = CASE
    WHEN lower(status) IN ('closed', 'close', 'resolved', 'completed', 'done', '已结案',
                           '已办结', '办结', '结案') THEN 'closed'
    ELSE 'reported' END
WHERE status NOT IN ({STATUS_LIST});

ALTER TABLE cases
    ADD CONSTRAINT cases_status_known CHECK (status IN ({STATUS_LIST})),
    ADD COLUMN version integer NOT NULL DEFAULT 1,
    ADD COLUMN urgent boolean NOT NULL DEFAULT false,
    ADD COLUMN reporter text,
    ADD COLUMN unit_code text REFERENCES units (code),
    ADD COLUMN dispatch_rule text,
    -- The running step's clock: which step, on which basis (working time or wall clock),
    -- since when, its length including approved extensions, and when it turns yellow/red.
    ADD COLUMN step text,
    ADD COLUMN step_basis text CHECK (step_basis IN ('work', 'wall')),
    ADD COLUMN step_started_at timestamptz,
    ADD COLUMN step_length_s double precision,
    ADD COLUMN warn_at timestamptz,
    ADD COLUMN due_at timestamptz,
    -- Parked (挂账): the state to resume to and the step time left when the clock stopped.
    ADD COLUMN parked_from text,
    ADD COLUMN parked_remaining_s double precision,
    ADD COLUMN extension_requested text,
    -- Milestones and counters kept on the row so that indicators are one scan.
    ADD COLUMN filed_at timestamptz,
    ADD COLUMN dispatched_at timestamptz,
    ADD COLUMN reported_back_at timestamptz,
    ADD COLUMN closed_at timestamptz,
    ADD COLUMN voided_valid boolean,
    ADD COLUMN late_steps integer NOT NULL DEFAULT 0,
    ADD COLUMN rework_count integer NOT NULL DEFAULT 0,
    ADD COLUMN extension_count integer NOT NULL DEFAULT 0,
    ADD COLUMN escalated boolean NOT NULL DEFAULT false,
    ADD COLUMN satisfaction smallint CHECK (satisfaction BETWEEN 1 AND 5),
    ADD COLUMN merged_into bigint REFERENCES cases (id);
CREATE INDEX cases_reported_at_idx ON cases (reported_at);
CREATE INDEX cases_unit_idx ON cases (unit_code);
CREATE INDEX cases_due_idx ON cases (due_at) WHERE due_at IS NOT NULL;
CREATE INDEX cases_open_geog_idx ON cases USING gist ((geom::geography))
    WHERE status NOT IN ('closed', 'evaluated', 'voided', 'merged');

-- Every transition, never edited: the case's history.
CREATE TABLE case_events (
    id bigserial PRIMARY KEY,
    case_id bigint NOT NULL REFERENCES cases (id),
    seq integer NOT NULL,
    action text NOT NULL,
    from_status text,
    to_status text NOT NULL,
    actor text NOT NULL,
    role text NOT NULL,
    unit_code text,
    at timestamptz NOT NULL DEFAULT now(),
    note text,
    data jsonb NOT NULL DEFAULT '{{}}',
    late boolean NOT NULL DEFAULT false,
    UNIQUE (case_id, seq)
);

CREATE FUNCTION case_events_are_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'case events are immutable: % on case_events refused', TG_OP;
END $$;
CREATE TRIGGER case_events_immutable BEFORE UPDATE OR DELETE ON case_events
    FOR EACH ROW EXECUTE FUNCTION case_events_are_immutable();

CREATE TABLE attachments (
    id bigserial PRIMARY KEY,
    case_id bigint NOT NULL REFERENCES cases (id),
    event_id bigint REFERENCES case_events (id),
    filename text NOT NULL,
    content_type text NOT NULL,
    size_bytes bigint NOT NULL,
    sha256 text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{{64}}$'),
    uploaded_by text,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX attachments_case_idx ON attachments (case_id);

-- A phone that retries after a lost answer sends the same key: one case, the same answer.
CREATE TABLE idempotency_keys (
    key text PRIMARY KEY,
    request_sha256 text NOT NULL,
    case_id bigint NOT NULL REFERENCES cases (id),
    created_at timestamptz NOT NULL DEFAULT now()
);
"""

DOWNGRADE = """
DROP TABLE IF EXISTS idempotency_keys;
DROP TABLE IF EXISTS attachments;
DROP TABLE IF EXISTS case_events;
DROP FUNCTION IF EXISTS case_events_are_immutable();
DROP INDEX IF EXISTS cases_open_geog_idx;
DROP INDEX IF EXISTS cases_due_idx;
DROP INDEX IF EXISTS cases_unit_idx;
DROP INDEX IF EXISTS cases_reported_at_idx;
ALTER TABLE cases
    DROP CONSTRAINT IF EXISTS cases_status_known,
    DROP COLUMN IF EXISTS version, DROP COLUMN IF EXISTS urgent, DROP COLUMN IF EXISTS reporter,
    DROP COLUMN IF EXISTS unit_code, DROP COLUMN IF EXISTS dispatch_rule,
    DROP COLUMN IF EXISTS step, DROP COLUMN IF EXISTS step_basis,
    DROP COLUMN IF EXISTS step_started_at, DROP COLUMN IF EXISTS step_length_s,
    DROP COLUMN IF EXISTS warn_at, DROP COLUMN IF EXISTS due_at,
    DROP COLUMN IF EXISTS parked_from, DROP COLUMN IF EXISTS parked_remaining_s,
    DROP COLUMN IF EXISTS extension_requested, DROP COLUMN IF EXISTS filed_at,
    DROP COLUMN IF EXISTS dispatched_at, DROP COLUMN IF EXISTS reported_back_at,
    DROP COLUMN IF EXISTS closed_at, DROP COLUMN IF EXISTS voided_valid,
    DROP COLUMN IF EXISTS late_steps, DROP COLUMN IF EXISTS rework_count,
    DROP COLUMN IF EXISTS extension_count, DROP COLUMN IF EXISTS escalated,
    DROP COLUMN IF EXISTS satisfaction, DROP COLUMN IF EXISTS merged_into;
ALTER TABLE places DROP COLUMN IF EXISTS manager_unit_code;
DROP TABLE IF EXISTS case_categories;
DROP TABLE IF EXISTS units;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
