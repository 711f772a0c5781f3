"""A large table's year-over-year findings from the file alone, computed while validating (in the parse
process) and used by the writer when the warehouse holds nothing for the dataset: the same errors and
warnings, in the same order, as computing them in the writer; computed there again otherwise."""

from __future__ import annotations

import dataclasses
import pickle

import numpy as np
import pandas as pd
import pytest

import schemas.crosschecks as crosschecks
import schemas.pipeline as pipeline
from schemas.catalogs import load_catalog
from schemas.crosschecks import LARGE_FRAME_ROWS, check_against_history
from schemas.pipeline import ParsedFile, ValidatedFile, validate_files

NAME = "industrial_output"
PARTS = [("TOTAL", "TOTAL"), ("B", "TOTAL"), ("C", "TOTAL"), ("D", "TOTAL"), ("E", "TOTAL"),
         ("TOTAL", "STATE"), ("TOTAL", "NON_STATE"), ("TOTAL", "FDI")]
SHARES = {"B": 0.1, "C": 0.7, "D": 0.15, "E": 0.05, "STATE": 0.3, "NON_STATE": 0.5, "FDI": 0.2}


def _table(years: range, seed: int = 7) -> pd.DataFrame:
    """Industrial output of every pre-2025 province over `years`, at current and constant prices, by
    industry and by ownership (parts that add up to their totals), with some implausible jumps."""
    rng = np.random.default_rng(seed)
    codes = [r["province_code"] for r in load_catalog("provinces").rows]
    index = pd.MultiIndex.from_product([codes, list(years), ["current", "constant"]],
                                       names=["province_code", "reference_year", "price_basis"])
    groups = index.to_frame(index=False)
    jump = rng.random(len(groups)) < 0.04  # about one group in 25 moves by a factor of 3 or a third
    # elsewhere a steady 5 % a year, so that only the jumps (and the years after them) are flagged
    steady = 10_000 * 1.05 ** (groups["reference_year"] - years.start)
    total = np.where(jump, steady * rng.choice([3.0, 0.3], len(groups)), steady)
    status = np.where(rng.random(len(groups)) < 0.5, "final", "estimate")
    frames = []
    for industry, ownership in PARTS:
        share = SHARES.get(industry if industry != "TOTAL" else ownership, 1.0)
        frames.append(groups.assign(
            industry_code=industry, ownership_code=ownership,
            base_year=pd.array([2010 if b == "constant" else None for b in groups["price_basis"]], dtype="Int64"),
            value_bn_vnd=(total * share).round(1), unit="bn_vnd", status=status,
            _source_sheet="Biểu 01",
        ))
    table = pd.concat(frames, ignore_index=True)
    table["_source_cell"] = [f"F{i + 7}" for i in range(len(table))]
    columns = ["province_code", "reference_year", "industry_code", "ownership_code", "price_basis", "base_year",
               "value_bn_vnd", "unit", "status", "_source_sheet", "_source_cell"]
    return table[columns]


@pytest.fixture(scope="module")
def parsed() -> ParsedFile:
    table = _table(range(2001, 2025))
    assert len(table) > LARGE_FRAME_ROWS
    return ParsedFile("lon.csv", {NAME: table}, [], ["test@v1"], len(table))


@pytest.fixture(scope="module")
def validated(parsed: ParsedFile) -> ValidatedFile:
    [result] = validate_files([parsed], 50.0)
    assert isinstance(result, ValidatedFile)
    return result


def _recomputed(validated: ValidatedFile) -> ValidatedFile:
    """The same file without findings from validation: what the writer computed before."""
    return dataclasses.replace(validated, own_findings={})


def _found(checked: ValidatedFile) -> tuple[list[dict], list[dict]]:
    return [p.as_row() for p in checked.errors], [p.as_row() for p in checked.warnings]


def _empty(validated: ValidatedFile) -> pd.DataFrame:
    """What the warehouse's query gives for partitions it holds nothing for."""
    dataset = crosschecks.DATASETS[NAME]
    return pd.DataFrame(columns=[*dataset.grain, dataset.value_column, "status"])


@pytest.fixture
def no_recomputing(monkeypatch: pytest.MonkeyPatch) -> None:
    """The writer's checks fail if they run: the findings must come from validation."""
    def fail(*args: object, **kwargs: object) -> None:
        raise AssertionError("computed in the writer")

    monkeypatch.setattr(crosschecks, "plausibility_findings", fail)
    monkeypatch.setattr(crosschecks, "index_findings", fail)


def test_validation_keeps_the_findings_of_a_large_frame_with_their_bound(validated: ValidatedFile):
    own = validated.own_findings[NAME]
    assert own.bound_pct == 50.0 and own.frame is validated.frames[NAME]
    assert own.problems == crosschecks.plausibility_findings(crosschecks.DATASETS[NAME], own.frame, None, 50.0)
    assert {p.rule for p in own.problems} == {"yoy_plausible"}
    assert {p.severity for p in own.problems} == {"error", "warning"}


@pytest.mark.parametrize("history", ["missing", "empty"])
def test_an_empty_warehouse_takes_the_findings_from_validation(validated, history, request):
    previous = {} if history == "missing" else {NAME: _empty(validated)}
    expected = _found(check_against_history(_recomputed(validated), previous, 50.0))
    assert expected[0] and expected[1]  # final headline figures are rejected, estimates and components warn
    request.getfixturevalue("no_recomputing")
    checked = check_against_history(validated, previous, 50.0)
    assert _found(checked) == expected
    again = pickle.loads(pickle.dumps(validated, protocol=pickle.HIGHEST_PROTOCOL))  # from the parse process
    assert _found(check_against_history(again, previous, 50.0)) == expected


def test_findings_from_validation_follow_the_errors_and_warnings_already_found(validated, no_recomputing):
    earlier = crosschecks.Problem(rule="r", message="m", message_vi="m", severity="error")
    with_one = dataclasses.replace(validated, errors=[earlier], warnings=[earlier])
    checked = check_against_history(with_one, {}, 50.0)
    own = validated.own_findings[NAME].problems
    assert checked.errors == [earlier, *[p for p in own if p.severity == "error"]]
    assert checked.warnings == [earlier, *[p for p in own if p.severity != "error"]]


def test_figures_in_the_warehouse_are_checked_in_the_writer(validated: ValidatedFile):
    held = validated.frames[NAME]
    held = held[held["reference_year"] == 2010].assign(value_bn_vnd=lambda f: f["value_bn_vnd"] * 2.5)
    checked = check_against_history(validated, {NAME: held}, 50.0)
    assert _found(checked) == _found(check_against_history(_recomputed(validated), {NAME: held}, 50.0))
    alone = _found(check_against_history(validated, {}, 50.0))
    assert _found(checked) != alone
    assert any(r["rule"] == "revision_plausible" for r in _found(checked)[0] + _found(checked)[1])


def test_another_bound_is_checked_in_the_writer(validated: ValidatedFile):
    checked = check_against_history(validated, {}, 80.0)
    assert _found(checked) == _found(check_against_history(_recomputed(validated), {}, 80.0))
    assert _found(checked) != _found(check_against_history(validated, {}, 50.0))
    assert _found(checked)[0]


def test_a_replaced_frame_is_checked_in_the_writer(validated: ValidatedFile):
    frame = validated.frames[NAME]
    fewer = dataclasses.replace(validated, frames={NAME: frame[frame["reference_year"] != 2015].copy()})
    assert _found(check_against_history(fewer, {}, 50.0)) == _found(
        check_against_history(_recomputed(fewer), {}, 50.0))
    assert _found(check_against_history(fewer, {}, 50.0)) != _found(check_against_history(validated, {}, 50.0))


def test_validation_uses_the_bound_given(parsed: ParsedFile, validated: ValidatedFile):
    [wider] = validate_files([parsed], 80.0)
    assert wider.own_findings[NAME].bound_pct == 80.0
    assert _found(check_against_history(wider, {}, 80.0)) == _found(
        check_against_history(_recomputed(wider), {}, 80.0))
    assert _found(check_against_history(wider, {}, 80.0)) != _found(check_against_history(validated, {}, 50.0))


def test_a_small_frame_pays_nothing_at_validation(monkeypatch: pytest.MonkeyPatch):
    def fail(*args: object) -> None:
        raise AssertionError("computed for a small frame")

    monkeypatch.setattr(pipeline, "own_findings", fail)
    small = _table(range(2020, 2022))
    assert len(small) <= LARGE_FRAME_ROWS
    [result] = validate_files([ParsedFile("nho.csv", {NAME: small}, [], [], len(small))], 50.0)
    assert isinstance(result, ValidatedFile) and result.own_findings == {}


def test_parse_batch_validates_a_large_table_with_the_bound_set(parsed, monkeypatch, tmp_path):
    from flows import parsing
    from flows.settings import load_settings

    settings = dataclasses.replace(load_settings({}, home=tmp_path), yoy_bound_pct=30.0)
    monkeypatch.setattr(parsing, "_parse_one", lambda item, *args: parsed)
    [done] = parsing.parse_batch([parsing.Pending(archived=None)], settings, None, None)  # type: ignore[arg-type]
    assert done.validated is not None and done.validated.own_findings[NAME].bound_pct == 30.0
