"""The benchmark suite: the generator is seeded and loadable, the report's arithmetic, a tiny run end to end."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench import generate, report
from schemas.catalogs import load_catalog

ROOT = Path(__file__).resolve().parents[1]


def _digests(folder: Path) -> dict[str, str]:
    return {p.name: generate.sha256(p) for p in sorted(folder.iterdir()) if p.name != "MANIFEST.json"}


def test_backfill_is_reproducible_and_seeded(tmp_path: Path) -> None:
    first = generate.write_backfill(0.002, seed=7, out=tmp_path / "a", processes=1, progress=False)
    again = generate.write_backfill(0.002, seed=7, out=tmp_path / "b", processes=1, progress=False)
    other = generate.write_backfill(0.002, seed=8, out=tmp_path / "c", processes=1, progress=False)
    assert len(_digests(first)) == 3
    assert _digests(first) == _digests(again)
    assert set(_digests(other)) == set(_digests(first))
    assert _digests(other) != _digests(first)


def test_large_table_is_reproducible_with_a_unique_grain(tmp_path: Path) -> None:
    first = generate.write_large(700, seed=3, out=tmp_path / "a", formats=("csv",))
    again = generate.write_large(700, seed=3, out=tmp_path / "b", formats=("csv",))
    assert _digests(first) == _digests(again)
    rows = list(generate.large_rows(700, seed=3))
    assert len(rows) == 700
    assert len({(r[1], r[2], r[3], r[4]) for r in rows}) == 700


def test_full_scale_plan_is_national() -> None:
    pairs = generate.province_years(1.0)
    assert len(pairs) == 34 * 20
    assert len({name for name, _ in pairs}) == 34
    assert {year for _, year in pairs} == set(range(2006, 2026))
    assert generate.large_shape(generate.LARGE_ROWS)[2] * 34 * 20 >= generate.LARGE_ROWS


def test_every_province_name_resolves_to_its_own_code() -> None:
    catalog = load_catalog("provinces")
    codes = [catalog.lookup(name) for name in generate.PROVINCES_34]
    assert None not in codes
    assert len(set(codes)) == 34


@pytest.mark.parametrize("dataset", generate.DATASETS)
def test_workbooks_hold_50_to_500_rows(dataset: str) -> None:
    sizes = [len(generate.workbook(generate.DEFAULT_SEED, name, 2025, dataset).rows)
             for name in generate.PROVINCES_34]
    assert min(sizes) >= 50
    assert max(sizes) <= 500


@pytest.mark.slow
def test_generated_year_parses_and_validates_cleanly(tmp_path: Path) -> None:
    from schemas.parse import ParseContext
    from schemas.pipeline import parse_file, read_file, validate_file
    from schemas.specs import load_specs

    folder = generate.write_backfill(0.002, seed=11, out=tmp_path, processes=1, progress=False)
    for path in sorted(folder.glob("*.xlsx")):
        parsed = parse_file(read_file(path, path.name), load_specs(), ParseContext(path.name))
        validated = validate_file(parsed)
        assert not validated.errors, (path.name, [p.message for p in validated.errors[:3]])
        assert validated.summary()["province_code"] == load_catalog("provinces").lookup(
            generate.PROVINCES_34[[generate.slugify(n) for n in generate.PROVINCES_34].index(path.name.split("_")[0])]
        )


def _results(walls: dict[str, float], naive_inner: float, workbooks: int = 10, naive_workbooks: int = 5) -> dict:
    def run(wall: float, inner: float | None = None, tree: int = 100_000) -> dict:
        return {"wall_s": wall, "returncode": 0, "rss_kib": tree, "tree_rss_kib": tree, "inner_s": inner,
                "cpu_s": wall, "load_before": 0.5, "note": ""}

    results = {name: [run(w)] for name, w in walls.items()}
    results["naive"] = [run(walls["naive"], naive_inner)]
    return {
        "config": {"scale": 0.1, "runs": 1, "seed": 1, "ingest_cmd": "ingest {paths}", "naive_every": 2},
        "inputs": {"workbooks": workbooks, "naive_workbooks": naive_workbooks, "backfill_rows": 1000,
                   "large_rows": 100, "one_year_rows": 30, "one_year_files": ["a.xlsx"]},
        "machine": {"cpu": "x", "nproc": 2, "memory_gib": 1, "os": "linux", "python": "3.11",
                    "versions": {}, "commit": "abc", "dirty": False},
        "started": "2026-01-01T00:00:00+00:00",
        "results": results,
    }


def test_work_time_subtracts_the_trivial_flow_and_naive_is_extrapolated() -> None:
    data = _results({"w1": 10.0, "trivial-cold": 7.0, "trivial-warm": 5.0, "floor": 2.0, "naive": 11.0,
                     "w3": 6.0}, naive_inner=10.0)
    assert report.work_time(data, "w1") == pytest.approx(3.0)
    assert report.naive_estimate(data) == pytest.approx(1.0 + 10.0 * 10 / 5)
    met = {label: ok for label, _, _, ok in report.targets(data)}
    assert met["1 · work time within 2× floor"] is True          # 3 ≤ 2 × 2
    assert met["1 · ≥ 10× faster than naive"] is False           # 3 > 21 / 10
    assert met["3 · re-run ≤ trivial flow + 2 s"] is True         # 6 ≤ 5 + 2
    assert met["5 · sql cold under 0.6 s"] is None                # not measured


def test_report_renders_every_results_file(tmp_path: Path) -> None:
    results = tmp_path / "results"
    results.mkdir()
    data = _results({"w1": 10.0, "trivial-cold": 7.0, "floor": 2.0, "naive": 21.0}, naive_inner=20.0)
    (results / "scale-0.1.json").write_text(json.dumps(data), encoding="utf-8")
    text = report.write_report(results, tmp_path / "B.md").read_text(encoding="utf-8")
    assert "## Scale 0.1: 10 workbooks (1,000 table rows)" in text
    assert "| 1 · work time within 2× floor | 3.00 s | ≤ 4.00 s (2 × floor) | yes |" in text
    assert "naive, extrapolated to all 10 workbooks | 41.00" in text


@pytest.mark.slow
def test_tiny_benchmark_runs_end_to_end(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench.run", "--scale", "0.002", "--runs", "1", "--timeout", "600",
         "--only", "w1,w5,floor,floor-csv,naive", "--out", str(tmp_path / "out"),
         "--results", str(tmp_path / "results"), "--report", str(tmp_path / "BENCHMARKS.md")],
        cwd=ROOT, capture_output=True, text=True, timeout=900, check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    data = json.loads((tmp_path / "results" / "scale-0.002.json").read_text(encoding="utf-8"))
    w1 = data["results"]["w1"][0]
    assert w1["returncode"] == 0
    assert "Summary: 3 loaded, 0 skipped, 0 rejected, 0 failed" in w1["note"]
    assert data["results"]["w5"][0]["returncode"] == 0
    assert data["results"]["floor"][0]["rows"] > data["inputs"]["backfill_rows"]  # notes rows are kept raw
    assert data["results"]["floor-csv"][0]["rows"] == data["inputs"]["large_rows"]
    text = (tmp_path / "BENCHMARKS.md").read_text(encoding="utf-8")
    assert "1 · national backfill" in text and "### Targets (issue 8)" in text
