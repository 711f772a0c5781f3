"""Validating the files of a batch together (one pandera call per dataset) gives each file exactly what
validating it alone gives: the same coerced frame, the same problems, and the same errors."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from niengiam import samples
from schemas import contracts
from schemas.contracts import validate, validate_together
from schemas.errors import DataError
from schemas.parse import ParseContext
from schemas.pipeline import ParsedFile, parse_file, read_file, validate_file, validate_files
from schemas.specs import load_specs
from tests.test_targets import ARTICLE_PLAN
from tests.trust_helpers import output_table, write_targets


def _parsed(folder: Path) -> list[ParsedFile]:
    specs = load_specs()
    out = []
    for path in sorted(folder.iterdir()):
        book = read_file(path, path.name)
        out.append(parse_file(book, specs, ParseContext(book.file_name)))
    return out


@pytest.fixture(scope="module")
def batch(sample_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> list[ParsedFile]:
    """The demo's 18 files, one of them twice, a file whose total is not the sum of its parts, a word
    where a number belongs, a final figure for a year the demo has as an estimate, and a year written in
    millions of dong (converted into billions with the others' figures)."""
    folder = tmp_path_factory.mktemp("together")
    for path in sample_dir.iterdir():
        shutil.copy(path, folder / path.name)
    shutil.copy(sample_dir / "phu-tho_2012_thuong-mai.xlsx", folder / "phu-tho_2012_thuong-mai_ban-sao.xlsx")
    wrong = output_table(2014)
    wrong.rows[0][5] = wrong.rows[0][5] + 100
    samples.write_xlsx(wrong, folder / "phu-tho_2014_gia-tri-sxcn_sai.xlsx")
    word = output_table(2013)
    word.rows[1][6] = "chưa có"
    samples.write_xlsx(word, folder / "phu-tho_2013_gia-tri-sxcn_chu.xlsx")
    samples.write_xlsx(output_table(2015, status="Chính thức", scale=1.02), folder / "phu-tho_2015_chinh-thuc.xlsx")
    samples.write_xlsx(output_table(2011, unit="Triệu đồng", scale=1000), folder / "phu-tho_2011_trieu-dong.xlsx")
    return _parsed(folder)


def _same(together: object, alone: object) -> None:
    if isinstance(alone, Exception):
        assert type(together) is type(alone) and str(together) == str(alone)
        return
    assert together.errors == alone.errors and together.warnings == alone.warnings
    assert together.frames.keys() == alone.frames.keys()
    for name in alone.frames:
        pd.testing.assert_frame_equal(together.frames[name], alone.frames[name], check_exact=True)


def _alone(parsed: ParsedFile) -> object:
    try:
        return validate_file(parsed)
    except Exception as exc:
        return exc


def test_a_batch_validated_together_equals_each_file_alone(batch: list[ParsedFile]) -> None:
    together = validate_files(batch)
    assert len(together) == len(batch) == 23
    for parsed, result in zip(batch, together, strict=True):
        _same(result, _alone(parsed))
    rejected = [p.file_name for p, r in zip(batch, together, strict=True) if isinstance(r, Exception) or r.errors]
    assert {"phu-tho_2014_gia-tri-sxcn_sai.xlsx", "phu-tho_2013_gia-tri-sxcn_chu.xlsx"} <= set(rejected)


def test_a_clean_batch_is_checked_in_one_call_per_dataset(batch: list[ParsedFile]) -> None:
    clean = [p for p in batch if not _alone(p).errors]
    frames = [p.frames["industrial_output"] for p in clean if "industrial_output" in p.frames]
    assert len(frames) > 3
    checked = validate_together("industrial_output", frames)
    assert checked is not None  # the same figures in two files are not duplicates of each other
    for frame, got in zip(frames, checked, strict=True):
        pd.testing.assert_frame_equal(got, validate("industrial_output", frame)[0], check_exact=True)


def test_validated_files_come_without_their_cell_columns_together_as_alone(batch: list[ParsedFile]) -> None:
    """The cell columns name a problem's cell while validating; what a file would load goes on without them,
    the same whether it was checked in a batch or alone."""
    clean = [p for p in batch if not _alone(p).errors]
    frames = [p.frames["industrial_output"] for p in clean if "industrial_output" in p.frames]
    assert all(any(c.startswith("_cell_") for c in f.columns) for f in frames)
    checked = validate_together("industrial_output", frames, keep_cells=False)
    assert checked is not None
    for frame, got in zip(frames, checked, strict=True):
        alone = validate("industrial_output", frame)[0]
        expected = alone[[c for c in alone.columns if not c.startswith("_cell_")]]
        pd.testing.assert_frame_equal(got, expected, check_exact=True)
    for result in validate_files(batch):
        if not isinstance(result, Exception):
            assert not [c for f in result.frames.values() for c in f.columns if c.startswith("_cell_")]


def test_a_part_in_another_file_does_not_complete_a_total(batch: list[ParsedFile]) -> None:
    """Totals are checked within each file: a part missing from one file is not found in another."""
    [parsed] = [p for p in batch if p.file_name == "phu-tho_2012_thuong-mai.xlsx"]
    frame = parsed.frames["trade"]
    part = frame[(frame["flow_code"] == "export") & (frame["product_group_code"] == "TEXTILES")].index
    without, only = frame.drop(part), frame.loc[part]
    assert [p.rule for p in validate("trade", without)[1]] == ["total_equals_parts"]
    assert not validate("trade", only)[1]
    assert validate_together("trade", [without, only]) is None
    assert validate_together("trade", [frame, frame]) is not None


def test_a_failing_batch_is_tried_again_in_halves_and_each_file_gets_what_it_gets_alone(
    batch: list[ParsedFile], monkeypatch: pytest.MonkeyPatch
) -> None:
    """One bad file among 33 frames of a dataset: the halves without it pass together, and only the files
    of the smallest failing group are validated alone (fewer than HALVES_FROM, not 33); every file's result
    is the one it gets alone."""
    from schemas import pipeline

    output = [p for p in batch if "industrial_output" in p.frames]
    [wrong] = [p for p in output if p.file_name == "phu-tho_2014_gia-tri-sxcn_sai.xlsx"]
    clean = [p for p in output if not _alone(p).errors]
    files = clean * 3 + [wrong] + clean
    alone: list[int] = []
    real = pipeline.validate
    monkeypatch.setattr(pipeline, "validate", lambda name, frame: alone.append(len(frame)) or real(name, frame))
    results = validate_files(files)
    assert len(files) >= 30 and 0 < len(alone) < pipeline.HALVES_FROM, alone
    for parsed, result in zip(files, results, strict=True):
        _same(result, _alone(parsed))
    assert [p.rule for p in results[files.index(wrong)].errors] == ["total_equals_parts"]


def test_a_file_that_fails_alone_keeps_its_error_in_a_batch(batch: list[ParsedFile]) -> None:
    empty = ParsedFile("trong.xlsx", {}, [], [], 0)
    results = validate_files([batch[0], empty, batch[1]])
    assert isinstance(results[1], DataError) and "holds no figures" in str(results[1])
    _same(results[0], _alone(batch[0]))
    _same(results[2], _alone(batch[1]))


def test_units_are_converted_together_as_alone(batch: list[ParsedFile], monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    real = contracts.to_canonical_units
    monkeypatch.setattr(contracts, "to_canonical_units", lambda d, f: calls.append(len(f)) or real(d, f))
    [millions] = [p for p in batch if p.file_name == "phu-tho_2011_trieu-dong.xlsx"]
    converted = validate_files(batch)[batch.index(millions)].frames["industrial_output"]
    rows = {name: [len(p.frames[name]) for p in batch if name in p.frames] for name in ("awards", "industrial_output", "trade")}
    output, trade = rows["industrial_output"], rows["trade"]
    assert calls[:2] == [sum(rows["awards"]), sum(output)]  # once per dataset, for all the files …
    assert calls[2:5] == [sum(output[:5]), sum(output[5:]), sum(trade)]  # … where the batch fails, in halves
    assert calls[5:] == output[5:]  # and file by file only in the half that fails (the wrong total, the word)
    assert set(converted["original_unit"]) == {"mn_vnd"} and set(converted["unit"]) == {"bn_vnd"}
    assert (converted["value_bn_vnd"] * 1000 - converted["original_value"]).abs().max() < 1e-6
    _same(validate_files(batch)[batch.index(millions)], _alone(millions))


def test_a_unit_set_by_a_code_and_a_merged_province_are_found_in_a_batch_as_alone(tmp_path: Path) -> None:
    """A target's canonical unit depends on its indicator (the export value in Tỷ USD becomes mn_usd), and
    Vĩnh Phúc sets no plan of its own from 2026: the batch converts every file's units and names the one
    file whose province merged away, exactly as each file validated alone."""
    write_targets(tmp_path / "a_phu-tho_2016-2020.xlsx", ARTICLE_PLAN)
    write_targets(tmp_path / "b_an-giang_2016-2020.xlsx", ARTICLE_PLAN, "UBND TỈNH AN GIANG")
    later = [[name, 2026, 2030, *rest] for name, _, _, *rest in ARTICLE_PLAN]
    write_targets(tmp_path / "c_vinh-phuc_2026-2030.xlsx", later, "UBND TỈNH VĨNH PHÚC")
    parsed = _parsed(tmp_path)
    together = validate_files(parsed)
    for file, result in zip(parsed, together, strict=True):
        _same(result, _alone(file))
    assert [[p.rule for p in r.errors] for r in together] == [[], [], ["province_in_force"]]
    exports = together[0].frames["targets"].query("indicator_code == 'export_value'")
    assert set(exports["unit"]) == {"mn_usd"} and set(exports["original_unit"]) == {"bn_usd"}
