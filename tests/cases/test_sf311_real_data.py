"""Real data: San Francisco's 11 districts as second-level grids and 10,000 real 311 cases."""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa
from tests.helpers import DIFFERENCES
from tests.shared_data import shared_data_path

from onegrid.cases import service as cases_service
from onegrid.grids import service as grids_service


def test_sf311_cases_get_the_district_the_city_recorded(session, capsys):
    districts = shared_data_path("data", "sf311", "supervisor_districts_2012.geojson")
    cases_csv = shared_data_path("data", "sf311", "cases.csv")

    grid_report = grids_service.import_grids(
        session, districts, level="second", code_field="district", name_field="name"
    )
    assert grid_report.accepted == 11 and not grid_report.rejected
    grids_service.write_grids(session, "second")

    report = cases_service.import_cases(
        session,
        cases_csv,
        fields=cases_service.CaseFields(
            id="case_id",
            lon="longitude",
            lat="latitude",
            category="category",
            reported_at="opened",
            status="status",
            source="source",
        ),
        time_zone="America/Los_Angeles",
    )
    cases_service.write_cases(session)

    source = pd.read_csv(cases_csv, dtype={"case_id": str})
    # Nothing lost silently, nothing invented: every row is a case or a listed rejection.
    assert report.read == len(source) == 10_000
    assert report.accepted + len(report.rejected) == len(source)
    stored = pd.DataFrame(
        session.execute(
            sa.text(
                """
        SELECT c.external_id, g.code AS second_code, c.outside_coverage,
               c.geom IS NULL AS no_location,
               c.location_note, c.reported_at
        FROM cases c LEFT JOIN grids g ON g.id = c.second_grid_id
        """
            )
        ).all()
    )
    assert len(stored) == report.accepted
    no_location = stored[stored.no_location]
    missing_in_source = source[source.latitude.isna() | source.longitude.isna()]
    rejected_rows = {r.row for r in report.rejected}
    assert len(missing_in_source) == 24
    # The 24 rows without a location are kept as cases flagged without a location.
    assert set(no_location.external_id) == set(missing_in_source.case_id)
    assert no_location.location_note.notna().all()
    assert not rejected_rows & {i + 2 for i in missing_in_source.index}

    # The set-based import decided exactly as a single report at each point would.
    assert session.execute(sa.text(DIFFERENCES)).scalars().all() == []

    located = stored[~stored.no_location]
    # Exactly one second-level grid, or the outside flag: never both, never neither.
    assert ((located.second_code.notna()) ^ located.outside_coverage).all()

    merged = located.merge(source, left_on="external_id", right_on="case_id")
    recorded = merged[merged.supervisor_district != 0]
    agree = recorded.second_code == recorded.supervisor_district.astype(str)
    share = agree.mean()
    assert share >= 0.97, f"only {share:.2%} agree with the recorded district"

    # Times without offset were read in San Francisco's zone, stored with a time zone.
    first = source.iloc[0]
    stored_first = stored.set_index("external_id").loc[str(first.case_id), "reported_at"]
    expected = pd.Timestamp(first.opened).tz_localize("America/Los_Angeles")
    assert stored_first == expected

    disagreements = recorded[~agree]
    distance_sql = sa.text(
        "SELECT ST_Distance(c.geom::geography, g.geom::geography) FROM cases c, grids g"
        " WHERE c.external_id = :id AND g.code = :district AND g.valid_to IS NULL"
    )
    distances = [
        (
            r.external_id,
            session.scalar(
                distance_sql, {"id": r.external_id, "district": str(r.supervisor_district)}
            ),
            r.second_code,
            r.supervisor_district,
        )
        for r in disagreements.itertuples()
    ]
    with capsys.disabled():
        print(
            f"\nSF 311: {agree.sum()}/{len(recorded)} = {share:.2%} agree; "
            f"{len(disagreements)} disagreements (metres to the recorded district):"
        )
        for ext, metres, ours, theirs in sorted(distances, key=lambda d: -d[1]):
            print(f"  case {ext}: {metres:.1f} m from district {theirs}, assigned {ours}")
