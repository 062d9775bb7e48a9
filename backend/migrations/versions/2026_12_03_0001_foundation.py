"""Foundation: versioned grids, their lookup pieces, places, cases, and the assignment rule.

Revision ID: 0001
Revises:
Create Date: 2026-12-03
"""

from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# The columns every assigned subject (case or place) carries. No foreign keys to grids:
# grid rows are never deleted (a boundary edit closes a version and adds one), and six
# FK checks per row would dominate a million-case import.
ASSIGNMENT_COLUMNS = """
    street_grid_id bigint,
    second_grid_id bigint,
    third_grid_id bigint,
    micro_grid_id bigint,
    dedicated_grid_id bigint,
    responsible_grid_id bigint,
    assignment_rule text,
    on_boundary boolean NOT NULL DEFAULT false,
    outside_coverage boolean NOT NULL DEFAULT false,
    nearest_grid_id bigint,
    nearest_m double precision,
    assigned_at timestamptz
"""

UPGRADE = f"""
CREATE EXTENSION IF NOT EXISTS postgis;

CREATE TABLE grids (
    id bigserial PRIMARY KEY,
    code text NOT NULL CHECK (btrim(code) <> ''),
    name text NOT NULL,
    level text NOT NULL CHECK (level IN ('street', 'second', 'third', 'micro', 'dedicated')),
    parent_id bigint REFERENCES grids (id),
    households integer CHECK (households >= 0),
    leader text,
    unit_name text,
    properties jsonb NOT NULL DEFAULT '{{}}',
    geom geometry(MultiPolygon, 4326) NOT NULL,
    version integer NOT NULL DEFAULT 1,
    valid_from timestamptz NOT NULL DEFAULT now(),
    valid_to timestamptz,
    CONSTRAINT grids_geom_valid CHECK (ST_IsValid(geom) AND NOT ST_IsEmpty(geom)),
    CONSTRAINT grids_version_period CHECK (valid_to IS NULL OR valid_to >= valid_from)
);
-- One current version per code; closed versions keep their code for history.
CREATE UNIQUE INDEX grids_current_code ON grids (code) WHERE valid_to IS NULL;
CREATE INDEX grids_geom_idx ON grids USING gist (geom);
CREATE INDEX grids_parent_idx ON grids (parent_id);
CREATE INDEX grids_level_idx ON grids (level) WHERE valid_to IS NULL;

-- Lookup structures rebuilt from the current grids in the same transaction as every grid
-- change (a "generation" of boundaries, as MapIt calls it):
--  * grid_pieces: each grid cut into pieces of at most 64 vertices, so the point-in-polygon
--    test is cheap and the GiST boxes tight; depth and the code path make the tie-break.
--  * grid_chain: each grid's ancestors per level, so the deepest grid gives the whole chain.
--  * grid_bands: a band band_m metres wide each side of every grid's boundary, cut the same
--    way; a point in another grid's band is "on the boundary". Buffered once in metres
--    (geography), then tested as plain point-in-polygon.
CREATE TABLE grid_pieces (
    grid_id bigint NOT NULL REFERENCES grids (id) ON DELETE CASCADE,
    level text NOT NULL,
    depth smallint NOT NULL,  -- street 0, second 1, third 2, micro 3; dedicated -1
    sort_key text COLLATE "C" NOT NULL,  -- byte order: the same tie-break on every server
    geom geometry(Polygon, 4326) NOT NULL
);
CREATE INDEX grid_pieces_geom_idx ON grid_pieces USING gist (geom);

CREATE TABLE grid_chain (
    grid_id bigint PRIMARY KEY REFERENCES grids (id) ON DELETE CASCADE,
    level text NOT NULL,
    depth smallint NOT NULL,
    sort_key text COLLATE "C" NOT NULL,
    street_id bigint,
    second_id bigint,
    third_id bigint,
    micro_id bigint
);

CREATE TABLE grid_bands (
    grid_id bigint NOT NULL REFERENCES grids (id) ON DELETE CASCADE,
    band_m double precision NOT NULL,
    geom geometry(Polygon, 4326) NOT NULL
);
CREATE INDEX grid_bands_geom_idx ON grid_bands USING gist (geom);
CREATE UNIQUE INDEX grid_chain_sort_key ON grid_chain (sort_key);

CREATE TABLE places (
    id bigserial PRIMARY KEY,
    kind text NOT NULL CHECK (kind IN
        ('building', 'courtyard', 'merchant', 'enterprise', 'site', 'resident_unit')),
    code text,
    name text,
    management_status text CHECK (management_status IN
        ('property_managed', 'unmanaged', 'red_property')),
    properties jsonb NOT NULL DEFAULT '{{}}',
    geom geometry(Geometry, 4326) NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    {ASSIGNMENT_COLUMNS},
    CONSTRAINT places_geom_valid CHECK (ST_IsValid(geom) AND NOT ST_IsEmpty(geom)),
    -- Each kind has its natural geometry: footprints and areas are polygons, businesses
    -- and units are points (an enterprise or unit may also be given as its building).
    CONSTRAINT places_geom_type CHECK (
        CASE WHEN kind IN ('building', 'courtyard', 'site')
             THEN GeometryType(geom) = 'MULTIPOLYGON'
             WHEN kind = 'merchant' THEN GeometryType(geom) = 'POINT'
             ELSE GeometryType(geom) IN ('POINT', 'MULTIPOLYGON') END)
);
CREATE UNIQUE INDEX places_kind_code ON places (kind, code) WHERE code IS NOT NULL;
CREATE INDEX places_geom_idx ON places USING gist (geom);

CREATE TABLE cases (
    id bigserial PRIMARY KEY,
    external_id text NOT NULL UNIQUE,
    category text,
    category_code text,
    description text,
    source text,
    status text NOT NULL DEFAULT 'reported',
    reported_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    geom geometry(Point, 4326),
    raw_x double precision,
    raw_y double precision,
    raw_crs text,
    location_note text,
    properties jsonb NOT NULL DEFAULT '{{}}',
    {ASSIGNMENT_COLUMNS},
    CONSTRAINT cases_lonlat_range CHECK (geom IS NULL OR
        (ST_X(geom) BETWEEN -180 AND 180 AND ST_Y(geom) BETWEEN -90 AND 90))
);
CREATE INDEX cases_geom_idx ON cases USING gist (geom);
CREATE INDEX cases_third_idx ON cases (third_grid_id);
CREATE INDEX cases_responsible_idx ON cases (responsible_grid_id);
CREATE INDEX cases_status_idx ON cases (status);

-- The assignment rule, in one place for bulk imports, single reports and places.
--  * Comprehensive levels: the deepest grid whose polygon covers the point (edge included)
--    wins; among several at that depth (a point on a shared edge or corner) the one whose
--    code path street/second/third/micro sorts first. Its ancestors complete the chain, so
--    the grids of one case always nest.
--  * Dedicated grids: the covering one with the smallest code.
--  * Responsible grid: the dedicated grid if any, else the deepest comprehensive grid.
--  * on_boundary: the point lies in the boundary band of a grid it was not given.
--  * Outside every grid: nearest grid (deepest on a tie) and its distance in metres.
-- assignment_from() decides from what covers the point; grid_assignment() gathers that for
-- one point, and bulk imports gather it for many points with one join (grids/repository.py).
-- SQL (not plpgsql) functions, so the planner inlines them.
CREATE TYPE grid_assignment_result AS (
    street_grid_id bigint, second_grid_id bigint, third_grid_id bigint,
    micro_grid_id bigint, dedicated_grid_id bigint, responsible_grid_id bigint,
    assignment_rule text, on_boundary boolean, outside_coverage boolean,
    nearest_grid_id bigint, nearest_m double precision);

-- One sortable key for "deepest first, then the code path": min() over it picks the winner
-- with a plain aggregate (ordered aggregates sort once per point: far slower in bulk).
CREATE FUNCTION tie_break_key(depth smallint, sort_key text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $fn$ SELECT ((3 - depth)::text || sort_key) COLLATE "C" $fn$;

CREATE FUNCTION assignment_from(
    pt geometry, finest_id bigint, dedicated_id bigint, covering bigint[], near bigint[])
RETURNS SETOF grid_assignment_result
LANGUAGE sql STABLE PARALLEL SAFE AS $fn$
    SELECT c.street_id, c.second_id, c.third_id, c.micro_id, dedicated_id,
           coalesce(dedicated_id, finest_id),
           CASE WHEN pt IS NULL THEN 'no_location'
                WHEN finest_id IS NULL AND dedicated_id IS NULL THEN 'outside_coverage'
                WHEN NOT covering <@ given.ids THEN 'shared_boundary_tiebreak'
                ELSE 'covered' END,
           coalesce(NOT near <@ given.ids, false),
           pt IS NOT NULL AND finest_id IS NULL AND dedicated_id IS NULL,
           n.grid_id, n.m
    FROM (SELECT 1) AS one
    LEFT JOIN grid_chain c ON c.grid_id = finest_id
    CROSS JOIN LATERAL (SELECT array_remove(ARRAY[c.street_id, c.second_id, c.third_id,
                                                  c.micro_id, dedicated_id], NULL) AS ids) given
    LEFT JOIN LATERAL (
        -- Only outside points look for the nearest grid; the gate comes first so that the
        -- points inside skip the whole subplan, sort included.
        SELECT k.grid_id, k.m
        FROM (SELECT 1 WHERE pt IS NOT NULL AND finest_id IS NULL AND dedicated_id IS NULL)
             AS outside
        CROSS JOIN LATERAL (
            -- Nearest by degrees narrows to 8 pieces, metres on the sphere rank them (then
            -- the deepest grid), and the winner's distance is measured on the spheroid.
            SELECT q.grid_id, ST_Distance(q.geom::geography, pt::geography) AS m
            FROM (SELECT grid_id, geom, depth, sort_key FROM grid_pieces
                  ORDER BY geom <-> pt LIMIT 8) AS q
            ORDER BY round(ST_Distance(q.geom::geography, pt::geography, false)::numeric, 2),
                     q.depth DESC, q.sort_key
            LIMIT 1) AS k) AS n ON true
$fn$;

CREATE FUNCTION grid_assignment(pt geometry)
RETURNS SETOF grid_assignment_result
LANGUAGE sql STABLE PARALLEL SAFE AS $fn$
    SELECT a.*
    FROM (SELECT min(tie_break_key(p.depth, p.sort_key)) FILTER (WHERE p.depth >= 0)
                     AS finest_key,
                 min(p.sort_key) FILTER (WHERE p.depth < 0) AS dedicated_key,
                 array_agg(p.grid_id) AS covering
          FROM grid_pieces p WHERE ST_Covers(p.geom, pt)) AS h
    LEFT JOIN grid_chain f ON f.sort_key = substr(h.finest_key, 2)
    LEFT JOIN grid_chain d ON d.sort_key = h.dedicated_key,
         (SELECT array_agg(b.grid_id) AS near
          FROM grid_bands b WHERE ST_Covers(b.geom, pt)) AS nb,
         assignment_from(pt, f.grid_id, d.grid_id, h.covering, nb.near) AS a
$fn$;
"""

DOWNGRADE = """
DROP FUNCTION IF EXISTS grid_assignment(geometry);
DROP FUNCTION IF EXISTS assignment_from(geometry, bigint, bigint, bigint[], bigint[]);
DROP FUNCTION IF EXISTS tie_break_key(smallint, text);
DROP TYPE IF EXISTS grid_assignment_result;
DROP TABLE IF EXISTS cases;
DROP TABLE IF EXISTS places;
DROP TABLE IF EXISTS grid_bands;
DROP TABLE IF EXISTS grid_chain;
DROP TABLE IF EXISTS grid_pieces;
DROP TABLE IF EXISTS grids;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
