"""Importing a responsibility list (事项清单) from CSV: checks with lines and fields, a dry run
by default, all or nothing with --commit."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from tests.conftest import _fresh_database
from tests.helpers import write_grid_file
from typer.testing import CliRunner

from onegrid.cli import app
from onegrid.db.engine import make_engine
from onegrid.duties import service
from onegrid.errors import InvalidInput
from onegrid.settings import get_settings

GOOD = (
    "code,name,responsible_level,on_the_spot,time_limit,category_code,department_code,grids,units\n"
    "G-001,清理小广告,grid,yes,30min,01005,,C1-01;C1-02,\n"
    "C-001,楼道堆物劝导,community,no,1wd,,,C1,\n"
    'D-001,"违章搭建\n查处",department,0,5wd,05001,D01,,D01\n'
    "S-001,占道经营,street,,2wd,,,S,\n"
)
# The same in the words a street's own ledger uses, saved by Excel (with a BOM).
CHINESE = (
    "\ufeff事项编码,事项名称,责任层级,随手办,办理时限,责任部门,网格\n"
    "G-002,井盖松动上报,网格,是,4h,,C1-01\n"
    "D-002,燃气隐患,部门,否,1wd,D03,\n"
)
BAD = (
    "code,name,responsible_level,on_the_spot,time_limit,department_code,grids\n"
    "G-001,清理小广告,grid,yes,30min,,C1-01\n"
    "G-002,,grid,yes,30min,,\n"
    "G-003,路灯,grid,maybe,30min,,\n"
    "D-001,违章搭建,department,no,5wd,,\n"
    "G-004,井盖,grid,no,3days,,C9-99\n"
    "G-001,again,grid,no,1wd,,\n"
)


def write(tmp_path, text: str, name: str = "items.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def stored(session) -> dict[str, tuple]:
    rows = session.execute(
        sa.text(
            "SELECT i.code, i.responsible_level, i.on_the_spot, i.time_limit,"
            " i.department_code, array(SELECT coalesce(a.grid_code, a.unit_code)"
            "   FROM responsibility_assignments a WHERE a.item_id = i.id ORDER BY 1) AS targets"
            " FROM responsibility_items i"
        )
    )
    return {r.code: tuple(r)[1:] for r in rows}


def test_a_good_file_stores_every_item_with_its_attachments(session, duty_street, tmp_path):
    report = service.import_items(session, write(tmp_path, GOOD))
    assert not report.rejected and report.read == report.accepted == 4
    assert report.summary == {
        "new items": 4,
        "updated items (same code)": 0,
        "attachments added": 5,
    }
    assert stored(session) == {
        "G-001": ("grid", True, "30min", None, ["C1-01", "C1-02"]),
        "C-001": ("community", False, "1wd", None, ["C1"]),
        "D-001": ("department", False, "5wd", "D01", ["D01"]),
        "S-001": ("street", False, "2wd", None, ["S"]),
    }
    again = service.import_items(session, write(tmp_path, GOOD))
    assert again.summary == {"new items": 0, "updated items (same code)": 4, "attachments added": 0}


def test_chinese_headers_and_a_bom_are_read(session, duty_street, tmp_path):
    report = service.import_items(session, write(tmp_path, CHINESE))
    assert not report.rejected, [r.describe() for r in report.rejected]
    assert stored(session) == {
        "G-002": ("grid", True, "4h", None, ["C1-01"]),
        "D-002": ("department", False, "1wd", "D03", []),
    }


def test_each_bad_row_is_named_with_its_line_and_field(session, duty_street, tmp_path):
    report = service.import_items(session, write(tmp_path, BAD))
    found = {(r.row, r.field) for r in report.rejected}
    assert found == {
        (3, "name"),
        (4, "on_the_spot"),
        (5, "department_code"),
        (6, "time_limit"),
        (6, "grids"),
        (7, "code"),
    }
    assert report.accepted == 1
    described = [r.describe() for r in report.rejected]
    assert any(d.startswith("row 7 (G-001): code:") and "line 2" in d for d in described)


def test_lines_are_counted_in_the_file_even_past_a_value_spanning_two(
    session, duty_street, tmp_path
):
    text = 'code,name,responsible_level\nA,"two\nlines",grid\n\nB,bad,floor\n'
    report = service.import_items(session, write(tmp_path, text))
    assert [(r.row, r.field) for r in report.rejected] == [(5, "responsible_level")]


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("code,name\nA,b\n", "missing column(s) responsible_level"),
        ("code,name,responsible_level,colour\nA,b,grid,red\n", "unknown column 'colour'"),
        ("code,name,responsible_level,事项编码\n", "appears more than once"),
        ("", "empty"),
    ],
)
def test_a_file_whose_header_cannot_be_used_is_refused_whole(
    session, duty_street, tmp_path, text, words
):
    with pytest.raises(InvalidInput) as caught:
        service.import_items(session, write(tmp_path, text))
    assert words in caught.value.message


def test_a_file_that_is_not_utf8_is_refused_with_its_line(session, duty_street, tmp_path):
    path = tmp_path / "gbk.csv"
    path.write_bytes("code,name,responsible_level\nA,清理,grid\n".encode("gbk"))
    with pytest.raises(InvalidInput) as caught:
        service.import_items(session, path)
    assert caught.value.message.startswith("line 2:")


# --- the command line: a dry run by default, all or nothing with --commit --------------------


@pytest.fixture(scope="module")
def cli_database() -> str:
    return _fresh_database("onegrid_test_cli_duties")


@pytest.fixture
def run(cli_database, monkeypatch, tmp_path):
    monkeypatch.setenv("ONEGRID_DATABASE_URL", cli_database)
    get_settings.cache_clear()
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(app, list(args))

    assert invoke("seed").exit_code == 0
    for level, grids in (
        ("street", {"S": "POLYGON((0 0, 2 0, 2 2, 0 2, 0 0))"}),
        ("second", {"C1": "POLYGON((0 0, 2 0, 2 2, 0 2, 0 0))"}),
        (
            "third",
            {
                "C1-01": "POLYGON((0 0, 1 0, 1 2, 0 2, 0 0))",
                "C1-02": "POLYGON((1 0, 2 0, 2 2, 1 2, 1 0))",
            },
        ),
    ):
        path = write_grid_file(tmp_path / f"{level}.geojson", grids)
        done = invoke("import", "grids", str(path), "--level", level, "--commit")
        assert done.exit_code == 0, done.output
    yield invoke
    get_settings.cache_clear()
    engine = make_engine(cli_database)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "TRUNCATE responsibility_assignments, responsibility_items, grids, audit_log,"
                " case_categories, units RESTART IDENTITY CASCADE"
            )
        )
    engine.dispose()


def count_items(url: str) -> int:
    engine = make_engine(url)
    with engine.connect() as conn:
        n = conn.scalar(sa.text("SELECT count(*) FROM responsibility_items"))
    engine.dispose()
    return n or 0


def test_the_command_writes_only_with_commit_and_only_a_file_without_faults(
    run, cli_database, tmp_path
):
    good = write(tmp_path, GOOD, "good.csv")
    dry = run("import", "responsibility-items", str(good))
    assert dry.exit_code == 0, dry.output
    assert "Dry run" in dry.output and "new items: 4" in dry.output
    assert count_items(cli_database) == 0

    bad = write(tmp_path, BAD, "bad.csv")
    refused = run("import", "responsibility-items", str(bad), "--commit")
    assert refused.exit_code == 1
    assert "row 6 (G-004): time_limit:" in refused.output
    assert "row 3 (G-002): name:" in refused.output
    assert count_items(cli_database) == 0  # the good row of the bad file is not written either

    done = run("import", "responsibility-items", str(good), "--commit")
    assert done.exit_code == 0 and "Imported" in done.output
    assert count_items(cli_database) == 4
    engine = make_engine(cli_database)
    with engine.connect() as conn:
        actions = list(conn.scalars(sa.text("SELECT action FROM audit_log")))
    engine.dispose()
    assert actions.count("responsibility_items_imported") == 1

    unreadable = write(tmp_path, "code,name\nA,b\n", "header.csv")
    r = run("import", "responsibility-items", str(unreadable), "--commit")
    assert r.exit_code == 2 and "missing column(s) responsible_level" in r.output

    table = run("stats", "registry", "--quarter", "2026Q4")
    assert table.exit_code == 0, table.output
    assert "quarter 2026Q4" in table.output
    totals = [
        line.split()[1:] for line in table.output.splitlines() if line.strip().startswith("total")
    ]
    assert totals[0] == ["4", "(1", "on", "the", "spot)"]  # the responsibility list
    wrong = run("stats", "registry", "--quarter", "2026Q9")
    assert wrong.exit_code == 2 and "--quarter" in wrong.output
