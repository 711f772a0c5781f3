"""Each contract rule: a frame that passes and a frame that fails, with the failing cell named."""

from __future__ import annotations

import pandas as pd
import pytest

from schemas.contracts import validate


def _industrial() -> pd.DataFrame:
    rows = [
        ("TOTAL", 100.0, "F8"), ("B", 10.2, "F9"), ("C", 69.8, "F10"), ("D", 15.0, "F11"), ("E", 5.0, "F12"),
    ]
    frame = pd.DataFrame(
        {
            "province_code": "25",
            "reference_year": 2014,
            "industry_code": [r[0] for r in rows],
            "ownership_code": "TOTAL",
            "price_basis": "current",
            "base_year": pd.array([pd.NA] * len(rows), dtype="Int64"),
            "value_bn_vnd": [r[1] for r in rows],
            "unit": "bn_vnd",
            "status": "final",
            "_source_sheet": "Biểu 01",
            "_source_cell": [r[2] for r in rows],
        }
    )
    return frame


def _with(frame: pd.DataFrame, row: int, column: str, value) -> pd.DataFrame:
    changed = frame.copy()
    changed.loc[row, column] = value
    return changed


def _rules(dataset: str, frame: pd.DataFrame) -> dict[str, list[str | None]]:
    _, problems = validate(dataset, frame)
    found: dict[str, list[str | None]] = {}
    for p in problems:
        found.setdefault(p.rule, []).append(p.cell)
    return found


def test_a_clean_frame_passes() -> None:
    assert _rules("industrial_output", _industrial()) == {}


@pytest.mark.parametrize(
    ("row", "column", "value", "rule", "cell"),
    [
        (1, "value_bn_vnd", -10.0, "non_negative", "F9"),
        (2, "industry_code", "Z", "known_code", "F10"),
        (0, "reference_year", 2999, "year_range", "F8"),
        (3, "status", "guess", "in_list", "F11"),
        (4, "province_code", "99", "known_code", "F12"),
    ],
)
def test_each_column_rule_fails_on_its_cell(row, column, value, rule, cell) -> None:
    frame = _industrial()
    if column == "value_bn_vnd" and rule == "non_negative":
        frame = _with(frame, 0, "value_bn_vnd", 80.0)  # keep the total consistent: isolate one rule
    found = _rules("industrial_output", _with(frame, row, column, value))
    assert cell in found.get(rule, []), found


def test_total_must_equal_the_sum_of_its_parts_within_rounding() -> None:
    assert _rules("industrial_output", _with(_industrial(), 0, "value_bn_vnd", 100.1)) == {}
    found = _rules("industrial_output", _with(_industrial(), 0, "value_bn_vnd", 101.0))
    assert found == {"total_equals_parts": ["F8"]}


def test_incomplete_parts_may_not_exceed_the_total() -> None:
    frame = _industrial().drop(index=4).reset_index(drop=True)  # E missing: parts need not add up…
    assert _rules("industrial_output", frame) == {}
    found = _rules("industrial_output", _with(frame, 0, "value_bn_vnd", 90.0))  # …but may not exceed
    assert found == {"parts_within_total": ["F8"]}


def test_duplicate_grain_is_refused() -> None:
    frame = pd.concat([_industrial(), _industrial().iloc[[1]]], ignore_index=True)
    assert "unique" in _rules("industrial_output", frame)


def test_every_problem_is_reported_at_once() -> None:
    frame = _with(_with(_industrial(), 1, "industry_code", "Z"), 2, "status", "guess")
    assert {"known_code", "in_list"} <= set(_rules("industrial_output", frame))


def _awards(count: float) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "province_code": ["25"],
            "reference_year": [2014],
            "award_code": ["BK_BO_CONG_THUONG"],
            "recipient_kind": ["collective"],
            "award_count": [count],
            "unit": ["count"],
            "status": ["final"],
            "_source_sheet": ["Biểu 03"],
            "_source_cell": ["E10"],
        }
    )


def test_award_counts_are_whole_and_not_negative() -> None:
    assert _rules("awards", _awards(3)) == {}
    assert _rules("awards", _awards(2.5)) == {"integral": ["E10"]}
    assert _rules("awards", _awards(-1))["non_negative"] == ["E10"]


def test_trade_units_must_match_the_flow() -> None:
    frame = pd.DataFrame(
        {
            "province_code": ["25"],
            "reference_year": [2014],
            "flow_code": ["export"],
            "product_group_code": ["TOTAL"],
            "value": [500.0],
            "unit": ["bn_vnd"],
            "status": ["final"],
            "_source_sheet": ["Biểu 02"],
            "_source_cell": ["F8"],
        }
    )
    assert _rules("trade", frame) == {"unit": ["F8"]}
    assert _rules("trade", frame.assign(unit="mn_usd")) == {}


def test_rule_names_survive_a_second_model_sharing_the_checks(monkeypatch) -> None:
    """pandera forgets a shared check's name once the first model is built; problems still name the rule."""
    from schemas import contracts

    contracts.IndustrialOutput.to_schema()

    class Again(contracts.IndustrialOutput):
        pass

    monkeypatch.setitem(contracts.CONTRACTS, "industrial_output", Again)
    found = _rules("industrial_output", _with(_with(_industrial(), 0, "reference_year", 2999), 4, "province_code", "99"))
    assert "F8" in found.get("year_range", []), found
    assert "F12" in found.get("known_code", []), found
