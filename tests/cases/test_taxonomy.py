"""The editable seed files for case types and responsible units, and their readers' checks."""

from __future__ import annotations

from pathlib import Path

import pytest

from onegrid.cases.taxonomy import (
    CATEGORY_COLUMNS,
    LIMIT_PATTERN,
    SEED_DIR,
    UNIT_COLUMNS,
    CategorySeed,
    SeedError,
    UnitSeed,
    read_categories,
    read_units,
)

UNITS_HEADER = ",".join(UNIT_COLUMNS)
CATEGORIES_HEADER = ",".join(CATEGORY_COLUMNS)
UNIT_ROWS = [
    "D01,金水区城市管理局,department,",
    "D02,金水区市政设施维护中心,department,0371-12345",
    "S01,丰产路街道平安建设办公室,street_office,",
]
CATEGORY_ROWS = [  # lines 2, 3 and 4 of the file
    "01001,01,市容环境,暴露垃圾,event,D01,30min,1wd,1h,false,true,false",
    "01002,01,市容环境,乱贴乱画,event,D01,30min,1wd,1h,false,true,true",
    "21001,21,公用设施,上水井盖,component,D02,30min,6h,2h,true,false,false",
]


def write(path: Path, header: str, rows: list[str], bom: bool = False) -> Path:
    text = "\n".join([header, *rows]) + "\n"
    path.write_bytes(("\ufeff" if bom else "").encode() + text.encode("utf-8"))
    return path


def units_file(tmp_path: Path, rows: list[str] | None = None) -> Path:
    return write(tmp_path / "units.csv", UNITS_HEADER, UNIT_ROWS if rows is None else rows)


def categories_file(tmp_path: Path, rows: list[str] | None = None) -> Path:
    rows = CATEGORY_ROWS if rows is None else rows
    return write(tmp_path / "categories.csv", CATEGORIES_HEADER, rows)


def with_field(row: str, field: str, value: str) -> str:
    values = row.split(",")
    values[CATEGORY_COLUMNS.index(field)] = value
    return ",".join(values)


def seed_error(read, *args, **kwargs) -> str:
    with pytest.raises(SeedError) as caught:
        read(*args, **kwargs)
    return str(caught.value)


# --- the packaged files ------------------------------------------------------------------


def test_packaged_seed_files_load_cleanly_and_every_department_resolves():
    units = read_units()
    categories = read_categories(unit_codes={unit.code for unit in units})
    assert 20 <= sum(unit.kind == "department" for unit in units) <= 25
    assert {unit.kind for unit in units} == {"department", "street_office"}
    assert 60 <= len(categories) <= 90
    assert {category.kind for category in categories} == {"component", "event"}
    assert (SEED_DIR / "units.csv").is_file() and (SEED_DIR / "categories.csv").is_file()


def test_packaged_taxonomy_keeps_event_majors_below_21_and_component_majors_from_21():
    for category in read_categories():
        assert (category.major_code >= "21") == (category.kind == "component"), category


def test_packaged_urgent_types_have_limits_in_minutes_or_hours_since_they_run_on_the_clock():
    urgent = [category for category in read_categories() if category.urgent]
    assert urgent
    for category in urgent:
        for limit in (category.file_limit, category.handle_limit, category.verify_limit):
            match = LIMIT_PATTERN.match(limit)
            assert match and match.group(1) in ("min", "h"), category


def test_packaged_taxonomy_carries_the_reference_limits():
    by_name = {category.name: category for category in read_categories()}
    assert by_name["暴露垃圾"].handle_limit == "1wd"
    assert by_name["井盖缺失"].handle_limit == "6h" and by_name["井盖缺失"].urgent
    assert by_name["违章搭建"].handle_limit == "5wd"
    assert not by_name["违章搭建"].property_may_handle
    assert not by_name["违章搭建"].self_handle_allowed
    assert by_name["邻里纠纷"].handle_limit == "3wd"
    assert by_name["燃气泄漏"].handle_limit == "1h" and by_name["燃气泄漏"].urgent


# --- reading -----------------------------------------------------------------------------


def test_units_read_in_file_order_with_an_empty_phone_as_none(tmp_path):
    units = read_units(units_file(tmp_path))
    assert units == [
        UnitSeed("D01", "金水区城市管理局", "department", None),
        UnitSeed("D02", "金水区市政设施维护中心", "department", "0371-12345"),
        UnitSeed("S01", "丰产路街道平安建设办公室", "street_office", None),
    ]


def test_categories_read_with_flags_as_booleans(tmp_path):
    categories = read_categories(categories_file(tmp_path), unit_codes={"D01", "D02"})
    assert categories[2] == CategorySeed(
        code="21001",
        major_code="21",
        major_name="公用设施",
        name="上水井盖",
        kind="component",
        department="D02",
        file_limit="30min",
        handle_limit="6h",
        verify_limit="2h",
        urgent=True,
        property_may_handle=False,
        self_handle_allowed=False,
    )
    assert [category.self_handle_allowed for category in categories] == [False, True, False]


def test_a_file_saved_with_a_byte_order_mark_reads(tmp_path):
    path = write(tmp_path / "categories.csv", CATEGORIES_HEADER, CATEGORY_ROWS, bom=True)
    assert [category.code for category in read_categories(path)] == ["01001", "01002", "21001"]
    path = write(tmp_path / "units.csv", UNITS_HEADER, UNIT_ROWS, bom=True)
    assert read_units(path)[0].code == "D01"


def test_excel_habits_are_tolerated_crlf_capital_booleans_spaces_and_empty_rows(tmp_path):
    rows = [
        with_field(CATEGORY_ROWS[0], "urgent", "FALSE"),
        with_field(CATEGORY_ROWS[1], "name", " 乱贴乱画 "),
        ",,,,,,,,,,,",
    ]
    path = tmp_path / "categories.csv"
    path.write_bytes(("\r\n".join([CATEGORIES_HEADER, *rows]) + "\r\n").encode("utf-8-sig"))
    categories = read_categories(path)
    assert [(c.urgent, c.name) for c in categories] == [(False, "暴露垃圾"), (False, "乱贴乱画")]


def test_a_unit_row_may_leave_out_the_trailing_empty_phone(tmp_path):
    units = read_units(units_file(tmp_path, ["D01,金水区城市管理局,department"]))
    assert units[0].phone is None


def test_department_is_not_checked_against_units_when_no_unit_codes_are_given(tmp_path):
    rows = [with_field(CATEGORY_ROWS[0], "department", "D99")]
    assert read_categories(categories_file(tmp_path, rows))[0].department == "D99"


def test_without_unit_codes_a_department_must_still_look_like_a_unit_code(tmp_path):
    rows = [with_field(CATEGORY_ROWS[0], "department", "城管")]
    message = seed_error(read_categories, categories_file(tmp_path, rows))
    assert message == (
        "categories.csv line 2, field department: '城管' is not a unit code such as D01 or S01"
    )


def test_with_unit_codes_any_listed_code_is_a_valid_department(tmp_path):
    # Units stored from other data (territories, property companies) have other code shapes.
    rows = [with_field(CATEGORY_ROWS[0], "department", "street:410105001000000")]
    path = categories_file(tmp_path, rows)
    categories = read_categories(path, unit_codes={"street:410105001000000"})
    assert categories[0].department == "street:410105001000000"


def test_seeds_convert_to_plain_dicts_for_database_rows():
    assert vars(read_categories()[0])["department"] == "D09"
    assert vars(read_units()[0])["kind"] == "department"


# --- category rules ----------------------------------------------------------------------

GOOD_ROW = "01003,01,市容环境,道路不洁,event,D01,30min,4h,1h,false,false,false"
CATEGORY_RULES = [
    ("code", "", "required, but empty"),
    ("code", "0100", "'0100' is not a 5-digit type code"),
    ("code", "01A01", "'01A01' is not a 5-digit type code"),
    ("code", "02001", "'02001' does not start with its major_code '01'"),
    ("major_code", "1", "'1' is not a 2-digit major code (Excel drops leading zeros"),
    ("major_name", "", "required, but empty"),
    ("name", "", "required, but empty"),
    ("kind", "部件", "'部件' is not component or event"),
    ("department", "", "required, but empty"),
    ("department", "城管", "'城管' is not a unit in units.csv"),
    ("department", "D99", "'D99' is not a unit in units.csv"),
    ("file_limit", "30", "'30' is not a time limit (use 30min, 6h, 1wd or 1cd)"),
    ("handle_limit", "2days", "'2days' is not a time limit (use 30min, 6h, 1wd or 1cd)"),
    ("handle_limit", "0h", "'0h' is not a time limit"),
    ("verify_limit", "1 h", "'1 h' is not a time limit"),
    ("verify_limit", "", "required, but empty"),
    ("urgent", "yes", "'yes' is not true or false"),
    ("property_may_handle", "1", "'1' is not true or false"),
    ("self_handle_allowed", "是", "'是' is not true or false"),
    ("self_handle_allowed", "", "required, but empty"),
]


@pytest.mark.parametrize("field,value,reason", CATEGORY_RULES)
def test_a_bad_category_field_is_rejected_naming_file_line_field_and_reason(
    tmp_path, field, value, reason
):
    rows = [CATEGORY_ROWS[0], CATEGORY_ROWS[1], with_field(GOOD_ROW, field, value)]
    message = seed_error(read_categories, categories_file(tmp_path, rows), unit_codes={"D01"})
    assert f"categories.csv line 4, field {field}: {reason}" in message
    assert "line 2" not in message and "line 3" not in message


def test_a_duplicate_category_code_is_rejected_pointing_at_the_first(tmp_path):
    rows = [*CATEGORY_ROWS, with_field(CATEGORY_ROWS[1], "name", "道路不洁")]
    message = seed_error(read_categories, categories_file(tmp_path, rows))
    assert message == "categories.csv line 5, field code: duplicate code '01002' (first on line 3)"


def test_a_duplicate_type_name_within_one_major_is_rejected(tmp_path):
    rows = [*CATEGORY_ROWS, with_field(CATEGORY_ROWS[1], "code", "01003")]
    message = seed_error(read_categories, categories_file(tmp_path, rows))
    assert message == (
        "categories.csv line 5, field name: duplicate name '乱贴乱画' in this major class "
        "(first on line 3)"
    )


def test_the_same_type_name_under_two_majors_is_allowed(tmp_path):
    rows = [
        with_field(CATEGORY_ROWS[1], "name", "其他"),
        with_field(CATEGORY_ROWS[2], "name", "其他"),
    ]
    assert [c.name for c in read_categories(categories_file(tmp_path, rows))] == ["其他", "其他"]


def test_a_major_name_differing_from_the_first_row_of_its_major_is_rejected(tmp_path):
    rows = [CATEGORY_ROWS[0], with_field(CATEGORY_ROWS[1], "major_name", "市容")]
    message = seed_error(read_categories, categories_file(tmp_path, rows))
    assert message == (
        "categories.csv line 3, field major_name: '市容' differs from '市容环境' "
        "given for major 01 on line 2"
    )


def test_a_major_class_mixing_components_and_events_is_rejected(tmp_path):
    rows = [CATEGORY_ROWS[0], with_field(CATEGORY_ROWS[1], "kind", "component")]
    message = seed_error(read_categories, categories_file(tmp_path, rows))
    assert "categories.csv line 3, field kind: 'component' differs from 'event'" in message


# --- unit rules --------------------------------------------------------------------------

UNIT_RULES = [
    ("D03,,department,", "name", "required, but empty"),
    (",金水区民政局,department,", "code", "required, but empty"),
    ("D3,金水区民政局,department,", "code", "'D3' is not a unit code"),
    ("S03,金水区民政局,department,", "code", "'S03' does not fit kind department"),
    ("D03,金水区民政局,enterprise,", "kind", "'enterprise' is not department or street_office"),
    ("D03,金水区民政局,,", "kind", "required, but empty"),
    ("D03,金水区民政局,department,tel 123", "phone", "'tel 123' is not a phone number"),
    ("D01,金水区民政局,department,", "code", "duplicate code 'D01' (first on line 2)"),
    ("D03,金水区城市管理局,department,", "name", "duplicate name '金水区城市管理局'"),
]


@pytest.mark.parametrize("row,field,reason", UNIT_RULES)
def test_a_bad_unit_field_is_rejected_naming_file_line_field_and_reason(
    tmp_path, row, field, reason
):
    message = seed_error(read_units, units_file(tmp_path, [*UNIT_ROWS, row]))
    assert f"units.csv line 5, field {field}: {reason}" in message


# --- file-level problems -----------------------------------------------------------------


def test_a_missing_or_misspelt_column_is_reported_on_the_header_line(tmp_path):
    header = CATEGORIES_HEADER.replace("handle_limit", "handle_limt")
    path = write(tmp_path / "categories.csv", header, CATEGORY_ROWS)
    message = seed_error(read_categories, path)
    assert "categories.csv line 1: missing column(s) handle_limit" in message
    assert "categories.csv line 1: unknown column(s) 'handle_limt'" in message


def test_columns_may_come_in_any_order(tmp_path):
    row = "金水区城市管理局,D01,,department"
    path = write(tmp_path / "units.csv", "name,code,phone,kind", [row])
    assert read_units(path) == [UnitSeed("D01", "金水区城市管理局", "department", None)]


def test_a_row_with_too_many_values_is_rejected_with_its_count(tmp_path):
    path = units_file(tmp_path, [*UNIT_ROWS, "D03,金水区民政局,department,,,extra"])
    message = seed_error(read_units, path)
    assert message.startswith("units.csv line 5: 6 values, expected 5")


def test_a_file_not_in_utf8_is_rejected_with_a_hint_for_excel(tmp_path):
    path = tmp_path / "units.csv"
    path.write_bytes(("\n".join([UNITS_HEADER, *UNIT_ROWS]) + "\n").encode("gbk"))
    message = seed_error(read_units, path)
    assert message == "units.csv line 2: the file is not UTF-8 text (in Excel, save as 'CSV UTF-8')"


def test_an_empty_file_and_a_header_without_rows_are_rejected(tmp_path):
    empty = tmp_path / "units.csv"
    empty.write_bytes(b"")
    assert "units.csv line 1: the file is empty" in seed_error(read_units, empty)
    assert "units.csv line 2: no rows after the header" in seed_error(
        read_units, units_file(tmp_path, [])
    )


def test_all_problems_are_reported_at_once_one_per_line(tmp_path):
    rows = [
        with_field(CATEGORY_ROWS[0], "handle_limit", "2days"),
        with_field(with_field(CATEGORY_ROWS[1], "urgent", "yes"), "department", "D99"),
        with_field(CATEGORY_ROWS[2], "code", "2100"),
    ]
    message = seed_error(read_categories, categories_file(tmp_path, rows), unit_codes={"D01"})
    assert message.splitlines() == [
        "categories.csv line 2, field handle_limit: '2days' is not a time limit "
        "(use 30min, 6h, 1wd or 1cd)",
        "categories.csv line 3, field department: 'D99' is not a unit in units.csv",
        "categories.csv line 3, field urgent: 'yes' is not true or false",
        "categories.csv line 4, field code: '2100' is not a 5-digit type code "
        "(2-digit major + 3-digit minor) (Excel drops leading zeros: format the column as text)",
        "categories.csv line 4, field department: 'D02' is not a unit in units.csv",
    ]


def test_seed_error_is_a_value_error_carrying_the_problem_list(tmp_path):
    rows = [with_field(CATEGORY_ROWS[0], "urgent", "yes")]
    with pytest.raises(ValueError) as caught:
        read_categories(categories_file(tmp_path, rows))
    assert isinstance(caught.value, SeedError)
    assert caught.value.problems == [
        "categories.csv line 2, field urgent: 'yes' is not true or false"
    ]


def test_a_limit_longer_than_a_year_is_refused_with_its_line(tmp_path):
    from onegrid.cases import taxonomy

    header = (
        "code,major_code,major_name,name,kind,department,file_limit,handle_limit,verify_limit,"
        "urgent,property_may_handle,self_handle_allowed\n"
    )
    path = tmp_path / "categories.csv"
    path.write_text(
        header + "01001,01,市容环境,暴露垃圾,event,D01,30min,99999999wd,1h,false,false,false\n",
        encoding="utf-8",
    )
    with pytest.raises(taxonomy.SeedError, match=r"line 2.*handle_limit.*longer than a year"):
        taxonomy.read_categories(path, unit_codes={"D01"})


def test_a_street_s_units_file_adds_property_companies_with_their_party_branch(tmp_path):
    path = write(
        tmp_path / "units.csv",
        "code,name,kind,phone,party_branch",
        [
            "D01,金水区城市管理局,department,,",
            "P01,润泽物业,property_company,0371-63512278,润泽物业党支部",
            "P02,安居物业,property_company,,",
        ],
    )
    units = read_units(path)
    assert [(u.code, u.kind, u.party_branch) for u in units] == [
        ("D01", "department", None),
        ("P01", "property_company", "润泽物业党支部"),
        ("P02", "property_company", None),
    ]
    before = write(
        tmp_path / "old.csv", "code,name,kind,phone", ["D01,金水区城市管理局,department,"]
    )
    assert read_units(before)[0].party_branch is None  # files without the column still read
    wrong = write(
        tmp_path / "wrong.csv",
        "code,name,kind,phone,party_branch",
        ["D01,金水区城市管理局,department,,城管党支部", "D02,某物业,property_company,,"],
    )
    with pytest.raises(SeedError) as refused:
        read_units(wrong)
    text = str(refused.value)
    assert "party_branch" in text and "property companies only" in text
    assert "'D02' does not fit kind property_company" in text
