"""Places registry: typed attributes of places, red-property claims of courtyards, enterprise
visits and their problems, responsibility lists (事项清单), the staff of each grid and the
grids each unit serves.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

UPGRADE = """
-- The attributes the street's reports count get columns of their own; `properties` keeps
-- whatever else the source had (OSM tags, a ledger's extra columns).
ALTER TABLE places
    ADD COLUMN address text,
    -- buildings (and courtyards): 户数, 人数
    ADD COLUMN households integer CHECK (households >= 0),
    ADD COLUMN residents integer CHECK (residents >= 0),
    -- merchants and enterprises: licence (统一社会信用代码 or 营业执照号), trade (行业), and the
    -- unit that keeps in touch with them (联系单位)
    ADD COLUMN licence_no text,
    ADD COLUMN trade text,
    ADD COLUMN contact_unit_code text REFERENCES units (code),
    -- enterprises: 重点税源, 规上企业, and the officer who serves them (包联干部)
    ADD COLUMN key_tax_source boolean NOT NULL DEFAULT false,
    ADD COLUMN above_scale boolean NOT NULL DEFAULT false,
    ADD COLUMN service_officer text,
    -- project sites: when the work starts and ends
    ADD COLUMN starts_on date,
    ADD COLUMN ends_on date CHECK (ends_on IS NULL OR starts_on IS NULL OR ends_on >= starts_on),
    ADD COLUMN updated_at timestamptz,
    ADD COLUMN updated_by text;

-- A property company claims an unmanaged courtyard (红色物业认领); the street approves or
-- rejects it; an approved claim ends when the company leaves. Rows are never deleted: they
-- are the courtyard's history. A courtyard has at most one open (pending or approved) claim.
CREATE TABLE courtyard_claims (
    id bigserial PRIMARY KEY,
    courtyard_id bigint NOT NULL REFERENCES places (id),
    company_code text NOT NULL REFERENCES units (code),
    status text NOT NULL CHECK (status IN ('pending', 'approved', 'rejected', 'ended')),
    claimed_on date NOT NULL,
    requested_by text NOT NULL,
    requested_at timestamptz NOT NULL,
    decided_by text,
    decided_at timestamptz,
    decision_note text,
    ended_on date,
    ended_by text,
    end_reason text,
    CHECK ((status = 'pending') = (decided_at IS NULL)),
    CHECK ((status = 'ended') = (ended_on IS NOT NULL)),
    CHECK (ended_on IS NULL OR ended_on >= claimed_on)
);
CREATE UNIQUE INDEX courtyard_claims_one_open ON courtyard_claims (courtyard_id)
    WHERE status IN ('pending', 'approved');
CREATE INDEX courtyard_claims_company ON courtyard_claims (company_code, status);

-- Enterprise service (万人助万企): a visit, what was discussed, and the problems raised; a
-- problem becomes a case in the normal workflow (source enterprise_service).
CREATE TABLE enterprise_visits (
    id bigserial PRIMARY KEY,
    enterprise_id bigint NOT NULL REFERENCES places (id),
    visited_on date NOT NULL,
    officer text NOT NULL CHECK (btrim(officer) <> ''),
    discussed text NOT NULL CHECK (btrim(discussed) <> ''),
    recorded_by text NOT NULL,
    recorded_at timestamptz NOT NULL
);
CREATE INDEX enterprise_visits_enterprise ON enterprise_visits (enterprise_id, visited_on);
CREATE INDEX enterprise_visits_officer ON enterprise_visits (officer, visited_on);

CREATE TABLE visit_problems (
    id bigserial PRIMARY KEY,
    visit_id bigint NOT NULL REFERENCES enterprise_visits (id),
    description text NOT NULL CHECK (btrim(description) <> ''),
    category_code text REFERENCES case_categories (code),
    case_id bigint UNIQUE REFERENCES cases (id)
);
CREATE INDEX visit_problems_visit ON visit_problems (visit_id);

-- Responsibility lists (事项清单): what is handled at which level, whether a grid worker may
-- settle it on the spot (随手办), and in what time (a time limit such as 2wd, 4h).
CREATE TABLE responsibility_items (
    id bigserial PRIMARY KEY,
    code text NOT NULL UNIQUE CHECK (btrim(code) <> ''),
    name text NOT NULL CHECK (btrim(name) <> ''),
    responsible_level text NOT NULL CHECK (responsible_level IN
        ('grid', 'community', 'street', 'department')),
    on_the_spot boolean NOT NULL DEFAULT false,
    time_limit text,
    category_code text REFERENCES case_categories (code),
    department_code text REFERENCES units (code),
    active boolean NOT NULL DEFAULT true,
    CHECK ((responsible_level = 'department') = (department_code IS NOT NULL))
);
-- An item attached to a grid (by code: codes outlive boundary versions) or to a unit.
CREATE TABLE responsibility_assignments (
    id bigserial PRIMARY KEY,
    item_id bigint NOT NULL REFERENCES responsibility_items (id),
    grid_code text,
    unit_code text REFERENCES units (code),
    CHECK ((grid_code IS NULL) <> (unit_code IS NULL))
);
CREATE UNIQUE INDEX responsibility_assignments_grid ON responsibility_assignments
    (item_id, grid_code) WHERE grid_code IS NOT NULL;
CREATE UNIQUE INDEX responsibility_assignments_unit ON responsibility_assignments
    (item_id, unit_code) WHERE unit_code IS NOT NULL;

-- The people who work in each grid: its leader and workers, and the staff district
-- departments sink into it (下沉人员), with their department.
CREATE TABLE grid_staff (
    id bigserial PRIMARY KEY,
    grid_code text NOT NULL,
    name text NOT NULL CHECK (btrim(name) <> ''),
    duty text NOT NULL CHECK (duty IN
        ('grid_leader', 'full_time_worker', 'part_time_worker', 'sunk_staff', 'police',
         'instructor')),
    unit_code text REFERENCES units (code),
    phone text,
    username text,
    active boolean NOT NULL DEFAULT true,
    CHECK (duty <> 'sunk_staff' OR unit_code IS NOT NULL)
);
CREATE INDEX grid_staff_grid ON grid_staff (grid_code) WHERE active;

-- The grids a unit serves: a district department sunk into the street, a resident unit
-- (驻街单位) that takes part in the grid's work.
CREATE TABLE unit_grids (
    unit_code text NOT NULL REFERENCES units (code),
    grid_code text NOT NULL,
    PRIMARY KEY (unit_code, grid_code)
);
"""

DOWNGRADE = """
DROP TABLE IF EXISTS unit_grids;
DROP TABLE IF EXISTS grid_staff;
DROP TABLE IF EXISTS responsibility_assignments;
DROP TABLE IF EXISTS responsibility_items;
DROP TABLE IF EXISTS visit_problems;
DROP TABLE IF EXISTS enterprise_visits;
DROP TABLE IF EXISTS courtyard_claims;
ALTER TABLE places
    DROP COLUMN IF EXISTS updated_by,
    DROP COLUMN IF EXISTS updated_at,
    DROP COLUMN IF EXISTS ends_on,
    DROP COLUMN IF EXISTS starts_on,
    DROP COLUMN IF EXISTS service_officer,
    DROP COLUMN IF EXISTS above_scale,
    DROP COLUMN IF EXISTS key_tax_source,
    DROP COLUMN IF EXISTS contact_unit_code,
    DROP COLUMN IF EXISTS trade,
    DROP COLUMN IF EXISTS licence_no,
    DROP COLUMN IF EXISTS residents,
    DROP COLUMN IF EXISTS households,
    DROP COLUMN IF EXISTS address;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
