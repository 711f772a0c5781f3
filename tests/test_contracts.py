"""The contracts as issue 4 extends them: every dataset's grain, figures converted into the canonical unit
with the written value kept, and provinces placed on the boundaries of their year. (Rule-by-rule checks of
the original contracts live in test_validation.py.)"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from niengiam import samples
from schemas.contracts import CONTRACTS, validate
from schemas.datasets import DATASETS
from schemas.parse import ParseContext
from schemas.pipeline import parse_file, read_file
from schemas.specs import load_specs


@pytest.fixture(scope="module")
def frames(tmp_path_factory: pytest.TempPathFactory) -> dict[str, pd.DataFrame]:
    """Parsed (not yet validated) frames of the demo's 2014 files, one per dataset."""
    folder = tmp_path_factory.mktemp("contracts")
    out: dict[str, pd.DataFrame] = {}
    for path in samples.write_samples(folder, years=[2014]):
        parsed = parse_file(read_file(Path(path), Path(path).name), load_specs(), ParseContext(Path(path).name))
        out.update(parsed.frames)
    return out


def test_every_dataset_has_a_contract_whose_grain_is_unique():
    assert set(CONTRACTS) == set(DATASETS)
    for name, contract in CONTRACTS.items():
        assert list(contract.Config.unique) == DATASETS[name].grain


@pytest.mark.parametrize("name", ["industrial_output", "trade", "awards"])
def test_the_samples_pass_and_keep_what_was_written(frames, name):
    checked, problems = validate(name, frames[name])
    assert problems == []
    dataset = DATASETS[name]
    written = pd.to_numeric(checked["original_value"])
    assert (written == checked[dataset.value_column].astype(float)).all()
    assert (checked["original_unit"] == checked["unit"]).all()


def test_trade_units_are_converted_or_refused(frames):
    frame = frames["trade"].copy()
    exports = frame["flow_code"] == "export"
    converted = frame.assign(value=frame["value"].where(~exports, frame["value"] * 1000),
                             unit=frame["unit"].where(~exports, "thousand_usd"))
    checked, problems = validate("trade", converted)
    assert problems == []
    assert checked.loc[exports, "value"].round(6).tolist() == frame.loc[exports, "value"].tolist()
    assert set(checked.loc[exports, "original_unit"]) == {"thousand_usd"}
    refused = frame.assign(unit=frame["unit"].where(~exports, "tonne"))
    assert "unit" in {p.rule for p in validate("trade", refused)[1]}


def test_figures_from_2025_are_placed_on_the_merged_provinces(frames):
    frame = frames["awards"].assign(reference_year=2025, province_code="10")
    checked, problems = validate("awards", frame)
    assert problems == [] and set(checked["province_code"]) == {"15"}
    _, problems = validate("awards", frame.assign(province_code="26"))
    assert {p.rule for p in problems} == {"province_in_force"}


def test_text_columns_checked_once_fail_as_pandera_fails_them(frames, monkeypatch):
    """The contracts as validated type their text columns `_Text`: a valid frame's text columns pass without
    a table of failing rows (pandera built and formatted one for every text column, ≈ 15 % of validating a
    batch), and a text column of the wrong type fails with exactly pandera's own failure cases."""
    import numpy as np
    import pandera.pandas as pa
    from pandera.backends.pandas import array

    from schemas.contracts import _schema, prepare

    def outcome(schema: pa.DataFrameSchema, frame: pd.DataFrame) -> tuple:
        try:
            checked = schema.validate(frame.copy(), lazy=True)
            return "passed", checked.dtypes.astype(str).tolist(), checked.astype(str).to_numpy().tolist()
        except pa.errors.SchemaErrors as exc:
            return "failed", exc.failure_cases.astype(str).to_numpy().tolist()

    tables: list[int] = []
    real = array.reshape_failure_cases
    monkeypatch.setattr(array, "reshape_failure_cases", lambda *a, **k: tables.append(1) or real(*a, **k))
    for name, frame in frames.items():
        prepared, _ = prepare(name, frame)
        text = [c for c, col in _schema(name).columns.items() if type(col.dtype).__name__ == "_Text"]
        assert text and set(text) <= set(prepared.columns)
        tables.clear()
        assert outcome(_schema(name), prepared)[0] == "passed" and tables == []
        for column in text:
            for wrong in (prepared[column].astype(object).where(np.arange(len(prepared)) % 3 != 0, 12),
                          pd.Series(1.5, index=prepared.index), prepared[column].astype(object)):
                changed = prepared.assign(**{column: wrong})
                assert outcome(_schema(name), changed) == outcome(CONTRACTS[name].to_schema(), changed)
