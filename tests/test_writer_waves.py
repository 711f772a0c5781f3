"""The writer's waves (flows.writer): files of a batch committed together leave the same warehouse as files
committed one by one — history read from earlier files of the same wave, partitions replaced twice in one
wave, rejections and corrections included — and a wave that fails is written again file by file."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from bench import generate
from flows import writer
from flows.ingest import ingest
from flows.parsing import Pending
from flows.settings import load_settings
from niengiam.samples import write_xlsx
from tests._ops import query, warehouse_contents
from warehouse import archive, load

pytestmark = pytest.mark.usefixtures("prefect_harness")

WAVE_MAX_FILES = writer.WAVE_MAX_FILES

PROVINCES = ("Cao Bằng", "Hà Tĩnh")
YEARS = (2021, 2022, 2023)
BAD = ("Hà Tĩnh", 2022, "trade")  # sent with every figure tripled: final headline totals are rejected


def _write(folder: Path, name: str, year: int, dataset: str, factor: float = 1.0) -> Path:
    table = generate.workbook(generate.DEFAULT_SEED, name, year, dataset)
    if factor != 1.0:
        table = dataclasses.replace(table, rows=[
            [v * factor if isinstance(v, float) else v for v in row]  # the figures; years are integers
            for row in table.rows
        ])
    return write_xlsx(table, folder / generate.file_name(generate.slugify(name), year, dataset))


@pytest.fixture(scope="module")
def backfill(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[Path], Path]:
    """Three years of two provinces, each workbook holding five years (so consecutive files replace the same
    partitions), one of them implausible; and that file corrected, in a folder of its own."""
    folder, fixed = tmp_path_factory.mktemp("backfill"), tmp_path_factory.mktemp("fixed")
    files = [_write(folder, name, year, dataset, 3.0 if (name, year, dataset) == BAD else 1.0)
             for name in PROVINCES for year in YEARS for dataset in generate.DATASETS]
    return files, _write(fixed, *BAD)


def _settings(home: Path):
    """Settings in a fresh home, with batches of 9 files (two waves of a province's three years)."""
    return dataclasses.replace(load_settings(env={}, home=home), batch_size=9)


def _run(settings, paths: list[Path]) -> list[str]:
    state = ingest([str(p) for p in paths], settings, progress=False, return_state=True)
    return [o.status for o in state.result(raise_on_failure=False)]


def _loaded_twice(tmp_path: Path, backfill, wave_max: int, monkeypatch: pytest.MonkeyPatch):
    files, fixed = backfill
    monkeypatch.setattr(writer, "WAVE_MAX_FILES", wave_max)
    settings = _settings(tmp_path / f"home-{wave_max}")
    first, second = _run(settings, files), _run(settings, [fixed])
    return first, second, warehouse_contents(settings.database)


@pytest.mark.slow
def test_waves_leave_the_same_warehouse_as_one_file_at_a_time(
    tmp_path: Path, backfill, monkeypatch: pytest.MonkeyPatch
) -> None:
    alone = _loaded_twice(tmp_path, backfill, 1, monkeypatch)
    together = _loaded_twice(tmp_path, backfill, WAVE_MAX_FILES, monkeypatch)
    first, second, contents = together
    assert first.count("rejected") == 1 and first.count("loaded") == 17 and second == ["loaded"]
    assert contents["meta.quarantine"], "the backfill's findings are part of the comparison"
    assert any(row for row in contents["core.fct_trade"] if row[-1] is not None), "replaced in the same run"
    assert together == alone


def _in_waves_of_one_batch(tmp_path: Path, backfill, monkeypatch: pytest.MonkeyPatch):
    """The backfill's files and settings in a fresh home, each wave one batch at most (a second batch already
    parsed when the first is written would join it)."""
    monkeypatch.setattr(writer, "WAVE_MAX_FILES", 9)
    return backfill[0], _settings(tmp_path / "home")


@pytest.mark.slow
def test_a_wave_reads_history_written_earlier_in_the_same_wave(
    tmp_path: Path, backfill, monkeypatch: pytest.MonkeyPatch
) -> None:
    files, settings = _in_waves_of_one_batch(tmp_path, backfill, monkeypatch)
    waves: list[int] = []
    real = writer._write_wave
    monkeypatch.setattr(writer, "_write_wave", lambda con, wave, *a: waves.append(len(wave)) or real(con, wave, *a))
    assert _run(settings, files).count("rejected") == 1
    assert waves == [9, 9]  # each batch one transaction, although its files replace each other's partitions
    findings = query(settings.database, """
        select count(*) from meta.quarantine as q join meta.loads as l using (load_id)
        where l.file_name = 'ha-tinh_2022_thuong-mai.xlsx' and q.rule = 'yoy_plausible'
          and q.message like '%in the warehouse%'""")
    assert findings[0][0] > 0  # 2021, its previous year, came from the same wave's first files


@pytest.mark.slow
def test_the_insert_takes_the_figures_the_history_check_joined_unless_a_file_of_them_is_not_loaded(
    tmp_path: Path, backfill, monkeypatch: pytest.MonkeyPatch
) -> None:
    files, settings = _in_waves_of_one_batch(tmp_path, backfill, monkeypatch)
    real, calls = load.replace_partitions_of, []

    def spy(con, dataset_name, loads, joined=None):
        calls.append((dataset_name, len(loads), joined is not None))
        if joined is not None:
            assert len(joined) == sum(len(frame) for frame, _, _ in loads)
        return real(con, dataset_name, loads, joined)

    monkeypatch.setattr(load, "replace_partitions_of", spy)
    assert _run(settings, files).count("rejected") == 1
    assert ("industrial_output", 3, True) in calls and ("trade", 3, True) in calls
    assert ("trade", 2, False) in calls  # the wave of the rejected trade file: its figures were joined too
    assert all(not joined for name, _, joined in calls if name == "awards")  # not history-checked: never joined


@pytest.mark.slow
def test_a_wave_that_fails_is_written_again_file_by_file(
    tmp_path: Path, backfill, monkeypatch: pytest.MonkeyPatch
) -> None:
    files, _ = backfill
    settings = _settings(tmp_path / "home")
    real = load.replace_partitions_of

    def full_disk_for_awards(con, dataset_name, loads, *joined):
        if dataset_name == "awards" and any(len(frame) and frame["reference_year"].iloc[0] == 2022 and
                                            frame["province_code"].iloc[0] == "04" for frame, _, _ in loads):
            raise OSError(28, "No space left on device")
        return real(con, dataset_name, loads, *joined)

    monkeypatch.setattr(load, "replace_partitions_of", full_disk_for_awards)
    statuses = _run(settings, files)
    assert statuses.count("failed") == 1 and statuses.count("rejected") == 1 and statuses.count("loaded") == 16
    failed = query(settings.database, "select file_name, error from meta.loads where status = 'failed'")
    assert failed[0][0] == "cao-bang_2022_thi-dua-khen-thuong.xlsx" and "No space left" in failed[0][1]
    orphans = query(settings.database, """
        select count(*) from core.fct_awards as f join meta.loads as l on l.load_id = f._load_id
        where l.status <> 'loaded'""")
    assert orphans == [(0,)]  # nothing of the failed load, nor of the rolled-back wave, remains


def _pending(tmp_path: Path, rows: int, dataset: str = "trade", partition: tuple = ("42", 2022)) -> Pending:
    import pandas as pd

    from schemas.pipeline import ValidatedFile

    frame = pd.DataFrame({"province_code": [partition[0]] * rows, "reference_year": [partition[1]] * rows})
    path = tmp_path / f"{dataset}-{rows}-{partition[1]}.csv"
    return Pending(archive.ArchivedFile("0" * 64, path, path.name, str(path), 1),
                   validated=ValidatedFile(path.name, {dataset: frame}))


def test_a_large_table_is_written_alone_and_other_partition_keys_wait_for_the_next_wave(tmp_path: Path) -> None:
    small = [_pending(tmp_path, 10, partition=("42", year)) for year in (2021, 2022)]
    large = _pending(tmp_path, 20_001)
    assert [len(w) for w in writer._waves([*small, large, *small])] == [2, 1, 2]
    indicators = [_pending(tmp_path, 5, "indicators", ("42", year)) for year in (2021, 2022, 2022)]
    assert [len(w) for w in writer._waves(indicators)] == [2, 1]  # two tables of one province and year


def _one_by_one(held: writer._HeldInMemory, wave: list[Pending], bound: float) -> list:
    """The wave's files checked against history as the writer checks them file by file."""
    from schemas.crosschecks import check_against_history

    out = []
    for item in wave:
        checked = check_against_history(item.validated, held.for_file(item.validated.frames), bound)
        if not checked.rejected:
            held.wrote(checked.frames)
        out.append(checked)
    return out


def test_files_checked_together_find_what_each_finds_alone(tmp_path: Path, backfill) -> None:
    """The batched history check equals the file-by-file one: history from earlier files of the wave and
    from the warehouse, a file rejected by its history (then neither the files that read its partitions nor
    those that do not may see its figures), in any order of the files."""
    from flows.parsing import parse_batch
    from warehouse import db

    files, _ = backfill
    settings = _settings(tmp_path / "home")
    parsed = parse_batch([Pending(archive.ArchivedFile(str(i), p, p.name, str(p), p.stat().st_size))
                          for i, p in enumerate(files)], settings, None, None)
    by_name = {item.archived.display_name: item for item in parsed}
    bad = generate.file_name(generate.slugify(BAD[0]), BAD[1], BAD[2])
    ha_tinh = [item for item in parsed if item.archived.display_name.startswith("ha-tinh")]
    orders = {
        "as sent": parsed,
        "the rejected file last of its dataset": sorted(ha_tinh, key=lambda i: (i.archived.display_name != bad,
                                                                                 "thuong-mai" not in i.archived.display_name)),
        "reversed": parsed[::-1],
    }
    bound = settings.yoy_bound_pct
    with db.writing(settings.database) as con:
        load.refresh_dimensions(con)
        for label, wave in orders.items():
            together = writer._HeldInMemory(con, wave).checked_together(wave, bound)
            alone = _one_by_one(writer._HeldInMemory(con, wave), wave, bound)
            assert [(v.errors, v.warnings) for v in together] == [(v.errors, v.warnings) for v in alone], label
            assert sum(v.rejected for v in alone) >= 1 and sum(len(v.warnings) for v in alone) > 0, label
        writer.write_batch(con, [by_name[n] for n in by_name if n.startswith("cao-bang")], None, settings)
        in_warehouse = [item for item in parsed if item.archived.display_name.startswith("cao-bang")] + ha_tinh
        together = writer._HeldInMemory(con, in_warehouse).checked_together(in_warehouse, bound)
        alone = _one_by_one(writer._HeldInMemory(con, in_warehouse), in_warehouse, bound)
        assert [(v.errors, v.warnings) for v in together] == [(v.errors, v.warnings) for v in alone]
        assert any("in the warehouse" in p.message for v in alone for p in v.warnings)
