"""Cross-checks: shares add up to 100, indices agree with their values, year-over-year and revision
plausibility against the warehouse with severity by status (estimate warns, final rejects)."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest

from schemas.crosschecks import (
    check_against_history,
    index_findings,
    plausibility_findings,
    severity_for,
    share_findings,
)
from schemas.datasets import DATASETS, Dataset, IndexRule, ShareRule
from schemas.pipeline import ValidatedFile
from tests.trust_helpers import output_table, query, run_ingest, write_output

OUTPUT = DATASETS["industrial_output"]
STRUCTURE = Dataset(
    name="structure",
    table="core.fct_structure",
    dimensions=("sector_code",),
    value_column="share_pct",
    label_vi="Cơ cấu kinh tế",
    label_en="Economic structure",
    shares=(ShareRule("sector_code", total="TOTAL"),),
)
INDEXED = Dataset(
    name="indexed",
    table="core.fct_indexed",
    dimensions=("measure",),
    value_column="value",
    label_vi="Chỉ số",
    label_en="Indexed series",
    indices=(IndexRule("measure", index_code="index_prev_year", value_code="value"),),
)


def _output(year: int, value: float, status: str = "final", cell: str = "F7") -> pd.DataFrame:
    return pd.DataFrame(
        {
            "province_code": ["25"], "reference_year": [year], "industry_code": ["TOTAL"],
            "ownership_code": ["TOTAL"], "price_basis": ["current"], "base_year": pd.array([None], dtype="Int64"),
            "value_bn_vnd": [value], "unit": ["bn_vnd"], "status": [status],
            "_source_sheet": ["Biểu 01"], "_source_cell": [cell],
        }
    )


# --- year over year and revisions (pure) ------------------------------------------------------------


def test_final_figure_beyond_the_bound_is_an_error_at_its_cell():
    found = plausibility_findings(OUTPUT, _output(2015, 45000.0), _output(2014, 28029.5), 50.0)
    assert [(p.rule, p.severity, p.sheet, p.cell) for p in found] == [("yoy_plausible", "error", "Biểu 01", "F7")]
    assert "60,5 %" in found[0].message and "28.029,5" in found[0].message
    assert "vượt ngưỡng hợp lý ±50 %" in found[0].message_vi


def test_estimate_beyond_the_bound_only_warns():
    found = plausibility_findings(OUTPUT, _output(2015, 45000.0, "estimate"), _output(2014, 28029.5), 50.0)
    assert [(p.rule, p.severity) for p in found] == [("yoy_plausible", "warning")]
    found = plausibility_findings(OUTPUT, _output(2015, 45000.0, "preliminary"), _output(2014, 28029.5), 50.0)
    assert [p.severity for p in found] == ["warning"]


@pytest.mark.parametrize(("value", "bound", "expected"), [(30618.0, 50, 0), (14000.0, 50, 1), (45000.0, 70, 0)])
def test_bound_is_symmetric_and_configurable(value, bound, expected):
    assert len(plausibility_findings(OUTPUT, _output(2015, value), _output(2014, 28029.5), bound)) == expected


def test_revision_against_the_previous_vintage():
    found = plausibility_findings(OUTPUT, _output(2015, 15000.0), _output(2015, 30618.0, "estimate"), 50.0)
    assert [(p.rule, p.severity) for p in found] == [("revision_plausible", "error")]
    assert "-51 %" in found[0].message


def test_previous_year_in_the_file_wins_over_the_warehouse():
    frame = pd.concat([_output(2014, 45000.0, cell="F7"), _output(2015, 47000.0, cell="F8")], ignore_index=True)
    held = _output(2014, 28029.5)
    found = plausibility_findings(OUTPUT, frame, held, 50.0)
    # 2015 against the file's 2014 (+4 %) is fine (against the warehouse's it would be +68 %);
    # 2014 against the warehouse's own 2014 is a revision of +61 %.
    assert [(p.rule, p.cell) for p in found] == [("revision_plausible", "F7")]


def test_growth_across_the_2025_merger_compares_on_the_same_boundaries():
    held = pd.concat(
        [_output(2024, v).assign(province_code=c) for c, v in (("25", 100.0), ("26", 300.0), ("17", 50.0))],
        ignore_index=True,
    )
    assert plausibility_findings(OUTPUT, _output(2025, 480.0), held, 50.0) == []  # +6,7 % on 100 + 300 + 50
    found = plausibility_findings(OUTPUT, _output(2025, 900.0), held, 50.0)
    assert [p.rule for p in found] == ["yoy_plausible"] and "(450 in the warehouse)" in found[0].message
    without_one = held[held["province_code"] != "17"]
    assert plausibility_findings(OUTPUT, _output(2025, 900.0), without_one, 50.0) == []


def test_codes_are_matched_as_written():
    held = pd.concat([_output(2014, 100.0).assign(province_code=c) for c in ("01", "VN")], ignore_index=True)
    found = plausibility_findings(OUTPUT, _output(2015, 200.0).assign(province_code="01"), held, 50.0)
    assert [p.rule for p in found] == ["yoy_plausible"]


def test_zero_previous_value_and_unusable_rows_are_skipped():
    assert plausibility_findings(OUTPUT, _output(2015, 10.0), _output(2014, 0.0), 50.0) == []
    assert plausibility_findings(OUTPUT, _output(2015, float("nan")), _output(2014, 10.0), 50.0) == []
    assert plausibility_findings(OUTPUT, _output(2015, 10.0), None, 50.0) == []


def test_severity_follows_status():
    assert [severity_for(s) for s in ("final", "preliminary", "estimate", None)] == [
        "error", "warning", "warning", "warning"
    ]
    assert severity_for("final", headline=False) == "warning"


def test_a_final_component_beyond_the_bound_only_warns():
    component = _output(2015, 4500.0).assign(industry_code="D")
    found = plausibility_findings(OUTPUT, component, _output(2014, 2800.0).assign(industry_code="D"), 50.0)
    assert [(p.rule, p.severity) for p in found] == [("yoy_plausible", "warning")]
    by_owner = _output(2015, 4500.0).assign(ownership_code="FDI")
    found = plausibility_findings(OUTPUT, by_owner, _output(2014, 2800.0).assign(ownership_code="FDI"), 50.0)
    assert [p.severity for p in found] == ["warning"]


def test_check_against_history_adds_errors_and_warnings():
    validated = ValidatedFile("f.xlsx", {"industrial_output": _output(2015, 45000.0)})
    checked = check_against_history(validated, {"industrial_output": _output(2014, 28029.5)}, 50.0)
    assert checked.rejected and [p.rule for p in checked.errors] == ["yoy_plausible"]
    assert validated.errors == []  # the input is not modified
    estimate = ValidatedFile("f.xlsx", {"industrial_output": _output(2015, 45000.0, "estimate")})
    checked = check_against_history(estimate, {"industrial_output": _output(2014, 28029.5)}, 50.0)
    assert not checked.rejected and [p.rule for p in checked.warnings] == ["yoy_plausible"]


# --- shares and indices (pure) --------------------------------------------------------------------


def _shares(values: dict[str, float], year: int = 2020) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "province_code": "25", "reference_year": year, "sector_code": list(values),
            "share_pct": list(values.values()), "status": "final", "_source_sheet": "S",
            "_source_cell": [f"C{i}" for i in range(5, 5 + len(values))],
        }
    )


def test_structure_shares_add_up_to_100_within_rounding():
    assert share_findings(STRUCTURE, _shares({"AGRI": 14.5, "IND": 47.2, "SERV": 38.3})) == []
    assert share_findings(STRUCTURE, _shares({"AGRI": 33.3, "IND": 33.3, "SERV": 33.3})) == []
    found = share_findings(STRUCTURE, _shares({"AGRI": 15.5, "IND": 47.2, "SERV": 38.3}))
    assert [(p.rule, p.severity, p.cell) for p in found] == [("shares_add_to_100", "error", "C5")]
    assert "101 %" in found[0].message and "101 %" in found[0].message_vi


def test_structure_total_row_must_be_100():
    found = share_findings(STRUCTURE, _shares({"TOTAL": 99.0, "AGRI": 14.5, "IND": 47.2, "SERV": 38.3}))
    assert [(p.rule, p.cell) for p in found] == [("shares_add_to_100", "C5")]


def _indexed(rows: list[tuple[int, str, float]], status: str = "final") -> pd.DataFrame:
    return pd.DataFrame(
        {
            "province_code": "25", "reference_year": [r[0] for r in rows], "measure": [r[1] for r in rows],
            "value": [r[2] for r in rows], "status": status, "_source_sheet": "S",
            "_source_cell": [f"D{i}" for i in range(2, 2 + len(rows))],
        }
    )


def test_index_agrees_with_the_values_it_indexes():
    good = _indexed([(2014, "value", 250.0), (2015, "value", 270.0), (2015, "index_prev_year", 108.0)])
    assert index_findings(INDEXED, good, None) == []
    bad = _indexed([(2014, "value", 250.0), (2015, "value", 270.0), (2015, "index_prev_year", 110.0)])
    found = index_findings(INDEXED, bad, None)
    assert [(p.rule, p.severity, p.cell) for p in found] == [("index_consistent", "error", "D4")]
    assert "108" in found[0].message


def test_index_against_the_previous_year_in_the_warehouse_follows_status():
    new = _indexed([(2015, "value", 270.0), (2015, "index_prev_year", 112.0)], status="estimate")
    held = _indexed([(2014, "value", 250.0)])
    assert [p.severity for p in index_findings(INDEXED, new, held)] == ["warning"]
    assert index_findings(INDEXED, new.assign(value=[270.0, 108.0]), held) == []


def test_yoy_bound_setting():
    from flows.settings import load_settings

    assert load_settings(env={}).yoy_bound_pct == 50.0
    assert load_settings(env={"NIENGIAM_YOY_BOUND": "80"}).yoy_bound_pct == 80.0


# --- against the warehouse, through the ingest flow ---------------------------------------------


@pytest.fixture(scope="module")
def checked_loads(prefect_harness, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """2014 loaded; then 2015 at +75 % as a final figure, as an estimate, and as a final with a wider bound."""
    from flows.settings import load_settings

    folder = tmp_path_factory.mktemp("crosscheck-files")
    settings = load_settings(env={}, home=tmp_path_factory.mktemp("crosscheck") / "home")
    base = write_output(folder / "a", "phu-tho_2014_gia-tri-sxcn.xlsx", source_year=2014)
    final = write_output(folder / "b", "phu-tho_2015_gia-tri-sxcn.xlsx", source_year=2015, scale=1.6)
    estimate = write_output(folder / "c", "phu-tho_2015_uoc.xlsx", source_year=2015, scale=1.6, status="Ước đạt")
    wider = write_output(folder / "d", "phu-tho_2015_cuoi-ky.xlsx", source_year=2015, scale=1.61)
    outcomes = run_ingest(settings, [base, final, estimate])
    outcomes += run_ingest(dataclasses.replace(settings, yoy_bound_pct=80.0), [wider])
    return {"settings": settings, "outcomes": outcomes}


@pytest.mark.slow
def test_final_figure_implausible_against_the_warehouse_is_rejected(checked_loads):
    settings, outcomes = checked_loads["settings"], checked_loads["outcomes"]
    assert [o.status for o in outcomes] == ["loaded", "rejected", "loaded", "loaded"]
    rejected = outcomes[1]
    rows = query(settings, "select rule, severity, sheet, cell from meta.quarantine where load_id = ? order by cell",
                 [rejected.load_id])
    assert {r[:2] for r in rows} == {("yoy_plausible", "error"), ("yoy_plausible", "warning")}
    # the headline figures (all industries, all ownership types) reject; components only warn
    assert sorted(r[3] for r in rows if r[1] == "error") == ["F8", "G8"]
    assert "28.029,5" in rejected.problems[0] or "2014" in rejected.problems[0]


@pytest.mark.slow
def test_estimate_implausible_loads_with_warnings_recorded_and_shown(checked_loads, capsys):
    from flows.cli import main  # noqa: F401  (flows.cli first: importing a command module first is circular)
    from flows.commands_ingest import print_summary

    settings, outcomes = checked_loads["settings"], checked_loads["outcomes"]
    estimate = outcomes[2]
    rows = query(settings, "select distinct rule, severity from meta.quarantine where load_id = ?", [estimate.load_id])
    assert rows == [("yoy_plausible", "warning")]
    assert estimate.message.endswith("warning(s)") and estimate.problems[0].startswith("warning: sheet 'Biểu 01' cell F")
    print_summary([estimate])
    shown = capsys.readouterr().out
    assert "warning: sheet 'Biểu 01' cell F8" in shown and "NIENGIAM_YOY_BOUND" in shown


@pytest.mark.slow
def test_a_wider_bound_accepts_the_final_figure(checked_loads):
    settings, outcomes = checked_loads["settings"], checked_loads["outcomes"]
    wider = outcomes[3]
    total = query(settings, "select value_bn_vnd, status from core.fct_industrial_output_current where"
                  " reference_year = 2015 and industry_code = 'TOTAL' and ownership_code = 'TOTAL'"
                  " and price_basis = 'current'")
    assert total == [(output_table(2015, scale=1.61).rows[0][5], "final")]
    # the replaced estimate is a vintage; the accepted final revises it by less than the bound
    assert query(settings, "select count(*) from meta.quarantine where load_id = ?", [wider.load_id]) == [(0,)]


def test_records_and_columns_give_the_same_findings(monkeypatch):
    """A small file is checked record by record, a large table column by column: the findings are equal,
    across years from the file and the warehouse, revisions, headline and component figures, statuses,
    and the 2025 merger (complete and incomplete predecessors)."""
    import random

    import schemas.crosschecks as crosschecks
    from schemas.provinces import predecessors, successors

    rng = random.Random(11)
    merged = sorted({s.code for s in successors().values()})[:3]
    provinces = [p for code in merged for p in predecessors(code)] + merged + ["01", "79"]
    rows = []
    for province in provinces:
        for year in range(2021, 2026):
            for industry, ownership in (("TOTAL", "TOTAL"), ("C", "TOTAL"), ("TOTAL", "STATE")):
                rows.append(_output(year, round(rng.uniform(50, 150), 1), rng.choice(["final", "estimate"]))
                            .assign(province_code=province, industry_code=industry, ownership_code=ownership,
                                    _source_cell=f"F{len(rows) + 7}"))
    table = pd.concat(rows, ignore_index=True)
    dropped = table["province_code"].eq(predecessors(merged[0])[0]) & table["reference_year"].eq(2024)
    held = table[(table["reference_year"] <= 2024) & ~dropped]  # one merged province lacks a predecessor
    held = pd.concat([held, held.iloc[::7].assign(value_bn_vnd=lambda f: f["value_bn_vnd"] * 3)])  # two vintages
    new = table[table["reference_year"] >= 2023].assign(
        value_bn_vnd=lambda f: f["value_bn_vnd"] * [rng.choice([0.3, 1.0, 1.02, 2.5]) for _ in range(len(f))]
    )
    results = {}
    for rows_limit in (10**9, 0):
        monkeypatch.setattr(crosschecks, "LARGE_FRAME_ROWS", rows_limit)
        results[rows_limit] = [p.as_row() for p in plausibility_findings(OUTPUT, new, held, 50.0)]
    assert results[0] == results[10**9]
    rules = {r["rule"] for r in results[0]}
    assert rules == {"yoy_plausible", "revision_plausible"} and len(results[0]) > 50
    assert any("in the warehouse" in r["message"] for r in results[0])
    assert any("in this file" in r["message"] for r in results[0])
