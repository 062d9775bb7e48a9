"""Database access: engine and sessions, the embedded PostGIS launcher, migrations."""
