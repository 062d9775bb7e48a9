"""The `onegrid` command end to end, on a database of its own (dry runs, commits, export)."""

from __future__ import annotations

import csv
import io

import pytest
import sqlalchemy as sa
from tests.conftest import _fresh_database
from tests.helpers import write_grid_file
from tests.shared_data import geo_fault
from typer.testing import CliRunner

from onegrid.cli import app
from onegrid.db.engine import make_engine
from onegrid.settings import get_settings


@pytest.fixture(scope="module")
def cli_database() -> str:
    return _fresh_database("onegrid_test_cli")


@pytest.fixture
def run(cli_database, monkeypatch):
    monkeypatch.setenv("ONEGRID_DATABASE_URL", cli_database)
    get_settings.cache_clear()
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None):
        return runner.invoke(app, list(args), input=input)

    yield invoke
    get_settings.cache_clear()
    engine = make_engine(cli_database)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "TRUNCATE cases, places, grids, users, refresh_tokens, audit_log, case_categories,"
                " units RESTART IDENTITY CASCADE"
            )
        )
    engine.dispose()


@pytest.fixture
def abcd(run, tmp_path):
    """B01's four third-level grids, imported with the command line."""
    grids = write_grid_file(tmp_path / "abcd.geojson", geo_fault("B01")["input"]["grids"])
    assert run("import", "grids", str(grids), "--level", "third", "--commit").exit_code == 0


def count(url: str, table: str) -> int:
    engine = make_engine(url)
    with engine.connect() as conn:
        n = conn.scalar(sa.text(f"SELECT count(*) FROM {table}"))
    engine.dispose()
    return n or 0


def audit_actions(url: str) -> list[str]:
    engine = make_engine(url)
    with engine.connect() as conn:
        actions = list(conn.scalars(sa.text("SELECT action FROM audit_log ORDER BY id")))
    engine.dispose()
    return actions


def test_import_is_a_dry_run_until_commit(run, cli_database, tmp_path):
    path = write_grid_file(tmp_path / "g.geojson", geo_fault("B01")["input"]["grids"])
    dry = run("import", "grids", str(path), "--level", "third")
    assert dry.exit_code == 0, dry.output
    assert "Dry run" in dry.output and "accepted: 4" in dry.output and "CRS: wgs84" in dry.output
    assert count(cli_database, "grids") == 0
    done = run("import", "grids", str(path), "--level", "third", "--commit")
    assert done.exit_code == 0 and "Imported" in done.output
    assert count(cli_database, "grids") == 4


def test_case_import_lists_rejected_rows_and_exports_one_row_per_case(
    abcd, run, cli_database, tmp_path
):
    cases = tmp_path / "cases.csv"
    cases.write_text(
        "编号,经度,纬度,上报时间\n"
        "a,116.40,39.905,2026-03-01 07:30\n"
        "b,116.395,95,2026-03-01 08:00\n"
        "c,,,2026-03-01 09:00\n"
        "d,116.395,39.905,not a time\n"
    )
    refused = run("import", "cases", str(cases), "--commit")
    assert refused.exit_code == 1, refused.output
    assert "row 3" in refused.output and "row 5" in refused.output
    assert count(cli_database, "cases") == 0  # all or nothing
    assert "cases_imported" not in audit_actions(cli_database)  # nothing written, no entry
    result = run("import", "cases", str(cases), "--commit", "--skip-rejected")
    assert result.exit_code == 0, result.output
    assert count(cli_database, "cases") == 2  # a, and c kept without a location
    assert audit_actions(cli_database).count("cases_imported") == 1
    export = run("export", "cases")
    rows = list(csv.DictReader(io.StringIO(export.stdout)))
    assert sorted(r["external_id"] for r in rows) == ["a", "c"]


def test_a_bad_file_fails_cleanly_and_writes_nothing(run, cli_database, tmp_path):
    path = tmp_path / "broken.geojson"
    path.write_text("{not json")
    result = run("import", "grids", str(path), "--level", "third", "--commit")
    assert result.exit_code == 2
    assert "nothing written" in result.output
    assert count(cli_database, "grids") == 0


def test_an_unwritable_report_path_stops_the_import_before_anything_is_written(
    run, cli_database, tmp_path
):
    path = write_grid_file(tmp_path / "g.geojson", geo_fault("B01")["input"]["grids"])
    result = run(
        "import",
        "grids",
        str(path),
        "--level",
        "third",
        "--commit",
        "--report",
        str(tmp_path / "missing" / "r.json"),
    )
    assert result.exit_code == 2 and "cannot write the report" in result.output
    assert count(cli_database, "grids") == 0


def test_an_unknown_export_format_leaves_the_output_file_alone(run, tmp_path):
    target = tmp_path / "keep.csv"
    target.write_text("precious")
    result = run("export", "cases", "--format", "xml", "--output", str(target))
    assert result.exit_code == 2 and target.read_text() == "precious"


def test_a_longer_version_of_an_imported_file_adds_only_the_new_reports(
    abcd, run, cli_database, tmp_path
):
    first = tmp_path / "a.csv"
    first.write_text("经度,纬度,上报时间\n116.395,39.905,2025-06-01 09:00\n")
    assert run("import", "cases", str(first), "--commit").exit_code == 0
    longer = tmp_path / "b.csv"
    rows = [
        "经度,纬度,上报时间",
        "116.395,39.905,2025-06-01 09:00",
        "116.405,39.915,2025-06-02 10:00",
    ]
    longer.write_bytes(("\r\n".join(rows) + "\r\n").encode())  # saved again on Windows
    result = run("import", "cases", str(longer), "--commit")
    assert result.exit_code == 0, result.output
    assert "already stored (skipped): 1" in result.output
    assert count(cli_database, "cases") == 2


def test_hotline_column_names_are_understood_and_unused_columns_named(
    abcd, run, cli_database, tmp_path
):
    path = tmp_path / "hotline.csv"
    path.write_text(
        "工单编号,经度,纬度,问题类型,问题描述,上报时间,处理状态,备注\n"
        "GD-1,116.395,39.905,占道经营,早市占道,2025-06-01 09:00,处理中,无\n"
    )
    result = run("import", "cases", str(path), "--commit")
    assert result.exit_code == 0, result.output
    assert "columns not imported (no field takes them): 备注" in result.output
    export = run("export", "cases")
    row = next(csv.DictReader(io.StringIO(export.stdout)))
    assert (
        row["external_id"],
        row["category"],
        row["description"],
        row["status"],
        row["source_status"],
    ) == ("GD-1", "占道经营", "早市占道", "reported", "处理中")


def test_a_nul_character_refuses_its_row_only(abcd, run, cli_database, tmp_path):
    path = tmp_path / "nul.csv"
    path.write_bytes(b"id,lon,lat,category\nn1,116.395,39.905,a\x00b\nn2,116.395,39.905,ok\n")
    result = run("import", "cases", str(path), "--commit", "--skip-rejected")
    assert result.exit_code == 0, result.output
    assert "row 2" in result.output and "NUL" in result.output
    assert count(cli_database, "cases") == 1


def test_category_codes_keep_their_leading_zeros(abcd, run, cli_database, tmp_path):
    path = tmp_path / "coded.csv"
    path.write_text(
        "工单编号,经度,纬度,问题类型,类型编码,上报时间\n"
        "GD-7,116.395,39.905,暴露垃圾,01001,2025-06-01 09:00\n"
    )
    result = run("import", "cases", str(path), "--commit")
    assert result.exit_code == 0, result.output
    row = next(csv.DictReader(io.StringIO(run("export", "cases").stdout)))
    assert (row["category"], row["category_code"]) == ("暴露垃圾", "01001")


def test_seed_loads_the_packaged_taxonomy_and_refuses_a_broken_file(run, cli_database, tmp_path):
    result = run("seed")
    assert result.exit_code == 0, result.output
    assert "loaded 26 units and 87 categories" in result.output
    broken = tmp_path / "categories.csv"
    broken.write_text(
        "code,major_code,major_name,name,kind,department,file_limit,handle_limit,verify_limit,"
        "urgent,property_may_handle,self_handle_allowed\n"
        "01001,01,市容环境,暴露垃圾,event,D99,30min,2days,1h,false,false,false\n",
        encoding="utf-8",
    )
    result = run("seed", "--categories", str(broken))
    assert result.exit_code == 1
    assert "nothing loaded" in result.output and "line 2" in result.output
    assert "handle_limit" in result.output and "D99" in result.output


def test_users_are_created_listed_given_a_password_disabled_and_enabled(run, cli_database):
    assert run("seed").exit_code == 0
    result = run(
        "users",
        "create",
        "liqiang",
        "--role",
        "street_dispatcher",
        "--name",
        "李强",
        "--password-stdin",
        input="a long enough passphrase\n",
    )
    assert result.exit_code == 0, result.output
    listed = run("users", "list").output
    assert "liqiang" in listed and "street_dispatcher" in listed and "active" in listed
    weak = run("users", "set-password", "liqiang", "--password-stdin", input="short\n")
    assert weak.exit_code == 2 and "password" in weak.output
    again = run(
        "users",
        "create",
        "liqiang",
        "--role",
        "auditor",
        "--password-stdin",
        input="another long passphrase\n",
    )
    assert again.exit_code == 2 and "exists" in again.output
    assert run("users", "disable", "liqiang").exit_code == 0
    assert "disabled" in run("users", "list").output
    assert run("users", "disable", "nobody").exit_code == 2
    assert run("users", "enable", "liqiang").exit_code == 0
    assert "disabled" not in run("users", "list").output
    assert "user_enabled" in audit_actions(cli_database)


def test_users_list_says_when_an_account_is_locked_out(run, cli_database):
    assert run("seed").exit_code == 0
    created = run(
        "users",
        "create",
        "zhaomin",
        "--role",
        "auditor",
        "--password-stdin",
        input="a long enough passphrase\n",
    )
    assert created.exit_code == 0, created.output
    engine = make_engine(cli_database)
    with engine.begin() as conn:  # as five wrong passwords leave it
        conn.execute(
            sa.text(
                "UPDATE users SET locked_until = now() + interval '15 minutes'"
                " WHERE username = 'zhaomin'"
            )
        )
    engine.dispose()
    assert "locked until" in run("users", "list").output
    run("users", "set-password", "zhaomin", "--password-stdin", input="another passphrase!\n")
    assert "locked" not in run("users", "list").output


def test_a_committed_places_import_is_audited_and_a_dry_run_is_not(
    abcd, run, cli_database, tmp_path
):
    merchants = tmp_path / "merchants.csv"
    merchants.write_text("code,name,lon,lat,trade\nM1,烩面馆,116.395,39.905,餐饮\n")
    dry = run("import", "places", str(merchants), "--kind", "merchant")
    assert dry.exit_code == 0, dry.output
    assert "places_imported" not in audit_actions(cli_database)
    done = run("import", "places", str(merchants), "--kind", "merchant", "--commit")
    assert done.exit_code == 0, done.output
    assert audit_actions(cli_database).count("places_imported") == 1
