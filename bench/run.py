"""Run every benchmark workload and its baselines in fresh processes, and write BENCHMARKS.md.

Each measurement is a subprocess: wall time from the parent, peak RSS of the process (wait4) and of its
whole process tree (sampled from /proc every 0.1 s). Workloads are interleaved run by run, and the
median of the runs is reported. Results go to bench/results/<scale>.json; BENCHMARKS.md is rendered
from every results file there, so a quick run and a full run can stand side by side.

Example: python -m bench.run --scale 0.05 --runs 3
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from bench import generate
from bench.baselines import workbooks

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
REPORT = ROOT / "BENCHMARKS.md"
# How the pipeline ingests a folder or files; {paths} is replaced by the paths. Switch to the backfill
# command when it lands, e.g. --ingest-cmd "backfill --quiet {paths}".
INGEST_CMD = "ingest --quiet {paths}"
SQL_QUERY = (
    "select province_code, count(*) as figures from core.fct_trade group by province_code"
    " order by province_code limit 5"
)
PACKAGES = ["prefect", "duckdb", "pandas", "pandera", "pyarrow", "fastexcel", "python-calamine", "openpyxl",
            "xlsxwriter"]
WORKLOADS = ["trivial", "w1", "w3", "w5", "w4", "w2", "w2-xlsx", "w2-csv", "floor", "floor-xlsx", "floor-csv",
             "naive"]


@dataclass
class Measurement:
    """One subprocess: wall seconds, exit code, peak RSS (process and tree, KiB) and its output's tail."""

    wall_s: float
    returncode: int
    rss_kib: int
    tree_rss_kib: int
    load_before: float = 0.0
    cpu_s: float = 0.0
    inner_s: float | None = None
    rows: int | None = None
    workbooks: int | None = None
    note: str = ""


@dataclass
class Config:
    """What to run: scale, runs, seed, workloads, the ingest command and the naive subset."""

    scale: float
    runs: int
    seed: int
    only: list[str]
    ingest_cmd: str
    naive_every: int
    timeout_s: float
    keep: bool
    out: Path = generate.OUT
    large_rows: int = field(init=False)

    def __post_init__(self) -> None:
        self.large_rows = max(1, round(generate.LARGE_ROWS * self.scale))


# --- measuring one process -----------------------------------------------------------------------


def _tree_rss_kib(root: int) -> int:
    """Sum of VmRSS over a process and all its descendants, read from /proc."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/status", encoding="ascii", errors="replace") as handle:
                fields = dict(line.split(":", 1) for line in handle if ":" in line)
        except OSError:
            continue
        parents[int(entry)] = int(fields.get("PPid", "0").strip() or 0)
        rss[int(entry)] = int(fields.get("VmRSS", "0 kB").split()[0]) if "VmRSS" in fields else 0
    tree, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, ppid in parents.items() if ppid == parent and pid not in tree]
        tree.update(children)
        frontier.extend(children)
    return sum(rss.get(pid, 0) for pid in tree)


def _sample(pid: int, stop: threading.Event, peak: list[int]) -> None:
    while not stop.wait(0.1):
        peak[0] = max(peak[0], _tree_rss_kib(pid))


def measure(args: list[str], env: dict[str, str], log: Path, timeout_s: float) -> Measurement:
    """Run a command in a fresh process; wall time, exit code and peak memory of it and its children."""
    log.parent.mkdir(parents=True, exist_ok=True)
    load_before = os.getloadavg()[0]
    with log.open("wb") as out:
        started = time.perf_counter()
        proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
        stop, peak = threading.Event(), [0]
        sampler = threading.Thread(target=_sample, args=(proc.pid, stop, peak), daemon=True)
        sampler.start()
        timer = threading.Timer(timeout_s, lambda: os.killpg(proc.pid, signal.SIGKILL))
        timer.start()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        timer.cancel()
        stop.set()
        sampler.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    _kill_leftovers(proc.pid)
    note = "timed out" if proc.returncode == -signal.SIGKILL else ""
    cpu = usage.ru_utime + usage.ru_stime
    return Measurement(wall, proc.returncode, usage.ru_maxrss, max(peak[0], usage.ru_maxrss), load_before, cpu,
                       note=note)


def _kill_leftovers(pgid: int) -> None:
    """End what the measured process left running in its own session (e.g. a Prefect server)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)


def base_env() -> dict[str, str]:
    """The environment of every measured process: Prefect quiet and local, no user settings leaking in."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NIENGIAM_", "PREFECT_"))}
    env.update({
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
        "PREFECT_LOGGING_LEVEL": "WARNING",
        "PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL": "CRITICAL",
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
        "PYTHONDONTWRITEBYTECODE": "1",
    })
    return env


# --- workloads -----------------------------------------------------------------------------------


def niengiam(command: list[str], extra_env: dict[str, str] | None = None) -> tuple[list[str], dict[str, str]]:
    """Argv and environment of a niengiam command run through bench/launch.py."""
    env = base_env() | (extra_env or {})
    return [sys.executable, "-m", "bench.launch", *command], env


def ingest_args(cfg: Config, home: Path, paths: list[Path]) -> list[str]:
    """The ingest command line for these paths, from the configured template."""
    words = []
    for word in shlex.split(cfg.ingest_cmd):
        words += [str(p) for p in paths] if word == "{paths}" else [word]
    return [*words[:1], "--home", str(home), *words[1:]]


def baseline(name: str, *args: str) -> list[str]:
    """Argv of one baseline (bench/baselines.py)."""
    return [sys.executable, "-m", "bench.baselines", name, *args]


def _inner(log: Path) -> tuple[float | None, int | None]:
    """Rows and inner seconds a baseline printed as its last JSON line."""
    for line in reversed(log.read_text(encoding="utf-8", errors="replace").splitlines()):
        if line.startswith("{"):
            data = json.loads(line)
            return data.get("seconds"), data.get("rows")
    return None, None


def _summary_line(log: Path) -> str:
    """The ingest summary ("Summary: 102 loaded, …") or the last line of the output."""
    lines = log.read_text(encoding="utf-8", errors="replace").strip().splitlines() or [""]
    return next((line for line in reversed(lines) if line.startswith("Summary:")), lines[-1][-200:])


def _fact_rows(database: Path) -> int | None:
    """Current fact rows in a warehouse after a run (read-only, after the writer exited)."""
    import duckdb

    if not database.exists():
        return None
    con = duckdb.connect(str(database), read_only=True)
    try:
        tables = ["core.fct_industrial_output", "core.fct_trade", "core.fct_awards"]
        return sum(con.execute(f"select count(*) from {t} where _superseded_at is null").fetchone()[0]
                   for t in tables)
    finally:
        con.close()


class Bench:
    """One benchmark session: inputs generated once, then every workload measured `runs` times."""

    def __init__(self, cfg: Config, work: Path) -> None:
        self.cfg = cfg
        self.work = work
        self.results: dict[str, list[Measurement]] = {}
        self.backfill = generate.write_backfill(cfg.scale, cfg.seed, cfg.out)
        self.large = generate.write_large(cfg.large_rows, cfg.seed, cfg.out)
        self.files = workbooks(self.backfill)
        self.backfill_rows = generate.manifest(self.backfill)["sheet_rows"]

    def wanted(self, name: str) -> bool:
        """Whether a workload was selected with --only (all by default)."""
        return not self.cfg.only or name in self.cfg.only or name.split("-")[0] in self.cfg.only

    def record(self, name: str, run: int, m: Measurement) -> None:
        """Keep a measurement and say it on stderr."""
        self.results.setdefault(name, []).append(m)
        rss = m.tree_rss_kib / 1024
        print(f"  run {run} {name:<12} {m.wall_s:8.2f} s  rc={m.returncode}  tree RSS {rss:7.0f} MiB"
              f"  cpu {m.cpu_s:7.2f} s  load {m.load_before:.1f}  {m.note}",
              file=sys.stderr, flush=True)

    def one_year(self) -> list[Path]:
        """Workload 4's files: the latest year of the first province in the backfill."""
        first = self.files[0].name.split("_")[0]
        year = max(int(p.name.split("_")[1]) for p in self.files if p.name.startswith(first + "_"))
        return [p for p in self.files if p.name.startswith(f"{first}_{year}_")]

    def run_once(self, run: int) -> None:
        """Every selected workload once, in a fixed order."""
        tmp = Path(tempfile.mkdtemp(prefix=f"run{run}-", dir=self.work))
        if self.wanted("trivial"):
            self.trivial(run, tmp)
        if self.wanted("w1") or self.wanted("w3") or self.wanted("w5"):
            self.backfill_workloads(run, tmp / "w1")
        if self.wanted("w4"):
            self.ingest("w4", run, tmp / "w4", self.one_year(), self.backfill_rows_of(self.one_year()))
        if self.wanted("w2-xlsx") or self.wanted("w2-csv"):
            self.large_workloads(run, tmp)
        self.baselines(run, tmp)
        if not self.cfg.keep:
            shutil.rmtree(tmp, ignore_errors=True)

    def backfill_rows_of(self, paths: list[Path]) -> int:
        """Table rows of some generated workbooks, from the generator's manifest."""
        rows = generate.manifest(self.backfill)["files"]
        return sum(rows[p.name] for p in paths)

    def trivial(self, run: int, tmp: Path) -> None:
        """The trivial flow with a fresh Prefect home (cold) and again with the same home (warm)."""
        env = base_env() | {"PREFECT_HOME": str(tmp / "prefect-trivial")}
        for name in ("trivial-cold", "trivial-warm"):
            m = measure(baseline("trivial"), env, tmp / f"{name}.log", self.cfg.timeout_s)
            m.inner_s, _ = _inner(tmp / f"{name}.log")
            self.record(name, run, m)

    def ingest(self, name: str, run: int, home: Path, paths: list[Path], rows: int,
               extra_env: dict[str, str] | None = None) -> Measurement:
        """One ingest through the command line, in a fresh process."""
        args, env = niengiam(ingest_args(self.cfg, home, paths), extra_env)
        log = home.parent / f"{name}.log"
        home.mkdir(parents=True, exist_ok=True)
        m = measure(args, env, log, self.cfg.timeout_s)
        m.rows, m.note = rows, (m.note + " " + _summary_line(log)).strip()
        if name != "w3":
            m.note += f"; {_fact_rows(home / 'warehouse.duckdb')} current fact rows"
        self.record(name, run, m)
        return m

    def backfill_workloads(self, run: int, home: Path) -> None:
        """Workload 1 (fresh home), then 3 (same files again) and 5 (a query, cold) on its warehouse."""
        self.ingest("w1", run, home, [self.backfill], self.backfill_rows)
        if self.wanted("w3"):
            self.ingest("w3", run, home, [self.backfill], self.backfill_rows)
        if self.wanted("w5"):
            args, env = niengiam(["sql", "--home", str(home), SQL_QUERY])
            m = measure(args, env, home.parent / "w5.log", self.cfg.timeout_s)
            m.note = _summary_line(home.parent / "w5.log")
            self.record("w5", run, m)

    def large_workloads(self, run: int, tmp: Path) -> None:
        """Workload 2: the large table as xlsx and as csv, each into a fresh home."""
        extra = {"NIENGIAM_BENCH_EXTRA_CATALOG": f"trade_groups={self.large / 'commodities.csv'}"}
        for kind in ("xlsx", "csv"):
            if not self.wanted(f"w2-{kind}"):
                continue
            path = self.large / f"xuat-khau-theo-mat-hang.{kind}"
            self.ingest(f"w2-{kind}", run, tmp / f"w2-{kind}", [path], self.cfg.large_rows, extra)

    def baselines(self, run: int, tmp: Path) -> None:
        """Floor for the backfill and the large table; the naive script on (a subset of) the backfill."""
        env = base_env()
        jobs = [
            ("floor", baseline("floor", str(self.backfill), "--db", str(tmp / "floor.duckdb"))),
            ("floor-xlsx", baseline("floor-xlsx", str(self.large / "xuat-khau-theo-mat-hang.xlsx"),
                                    "--db", str(tmp / "floor-xlsx.duckdb"))),
            ("floor-csv", baseline("floor-csv", str(self.large / "xuat-khau-theo-mat-hang.csv"),
                                   "--db", str(tmp / "floor-csv.duckdb"))),
            ("naive", baseline("naive", str(self.backfill), "--db", str(tmp / "naive.sqlite"),
                               "--every", str(self.cfg.naive_every))),
        ]
        for name, args in jobs:
            if not self.wanted(name):
                continue
            m = measure(args, env, tmp / f"{name}.log", self.cfg.timeout_s)
            m.inner_s, m.rows = _inner(tmp / f"{name}.log")
            if name == "naive":
                m.workbooks = len(workbooks(self.backfill, self.cfg.naive_every))
            if m.returncode:
                m.note = _summary_line(tmp / f"{name}.log")
            self.record(name, run, m)


# --- results -------------------------------------------------------------------------------------


def _version(package: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(package)
    except PackageNotFoundError:
        return "not installed"


def _git(*args: str) -> str:
    done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False)
    return done.stdout.strip()


def machine() -> dict[str, object]:
    """CPU, memory, OS, Python and package versions, and the commit measured."""
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    mem_kib = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                   if line.startswith("MemTotal"))
    return {
        "cpu": cpu,
        "nproc": os.cpu_count(),
        "memory_gib": round(mem_kib / 1024**2, 1),
        "os": platform.platform(),
        "python": platform.python_version(),
        "versions": {p: _version(p) for p in PACKAGES},
        "commit": _git("rev-parse", "--short", "HEAD"),
        "dirty": bool(_git("status", "--porcelain", "--untracked-files=no")),
    }


def save(bench: Bench, started: datetime, results: Path) -> Path:
    """Write this session's results as <results>/scale-<s>.json."""
    cfg = bench.cfg
    data = {
        "started": started.isoformat(timespec="seconds"),
        "config": {k: v for k, v in asdict(cfg).items() if k != "out"},  # paths differ by machine
        "inputs": {
            "backfill_dir": bench.backfill.name,
            "workbooks": len(bench.files),
            "backfill_rows": bench.backfill_rows,
            "naive_workbooks": len(workbooks(bench.backfill, cfg.naive_every)),
            "large_rows": cfg.large_rows,
            "one_year_files": [p.name for p in bench.one_year()],
            "one_year_rows": bench.backfill_rows_of(bench.one_year()),
        },
        "machine": machine(),
        "results": {name: [asdict(m) for m in ms] for name, ms in bench.results.items()},
    }
    results.mkdir(parents=True, exist_ok=True)
    path = results / f"scale-{cfg.scale:g}.json"
    if cfg.only and path.exists():  # a partial run adds to (and replaces within) the results of its scale
        earlier = json.loads(path.read_text(encoding="utf-8"))
        data["results"] = earlier.get("results", {}) | data["results"]
        data["partial_runs"] = [*earlier.get("partial_runs", []), started.isoformat(timespec="seconds")]
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    return path


def main(argv: list[str] | None = None) -> int:
    """Generate the inputs, measure, save the results and rewrite BENCHMARKS.md."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.run", description=__doc__.splitlines()[0],
        epilog="Example: python -m bench.run --scale 0.05 --runs 3 --only w1,w3,floor,naive,trivial",
    )
    parser.add_argument("--scale", type=float, default=1.0, help="Fraction of the national size (default 1).")
    parser.add_argument("--runs", type=int, default=3, help="Runs per workload; the median is reported.")
    parser.add_argument("--seed", type=int, default=generate.DEFAULT_SEED)
    parser.add_argument("--only", default="", help=f"Comma-separated workloads among: {', '.join(WORKLOADS)}.")
    parser.add_argument("--ingest-cmd", default=INGEST_CMD, help="niengiam command that loads {paths}.")
    parser.add_argument("--naive-every", type=int, default=1,
                        help="Run the naive baseline on every n-th workbook and extrapolate by rows.")
    parser.add_argument("--timeout", type=float, default=3600, help="Seconds before a measurement is killed.")
    parser.add_argument("--keep", action="store_true", help="Keep the run folders (homes, logs) in bench/out/.")
    parser.add_argument("--out", type=Path, default=generate.OUT, help="Folder for generated inputs and runs.")
    parser.add_argument("--results", type=Path, default=RESULTS, help="Folder of results files (JSON).")
    parser.add_argument("--report", type=Path, default=REPORT, help="The report to (re)write.")
    parser.add_argument("--report-only", action="store_true", help="Only re-render the report from results.")
    args = parser.parse_args(argv)
    from bench.report import write_report

    if args.report_only:
        print(write_report(args.results, args.report))
        return 0
    if not 0 < args.scale <= 1 or args.runs < 1:
        parser.error("--scale must be in (0, 1] and --runs at least 1")
    only = [w.strip() for w in args.only.split(",") if w.strip()]
    unknown = [w for w in only if w not in WORKLOADS]
    if unknown:
        parser.error(f"unknown workload {unknown[0]!r}; choose among {', '.join(WORKLOADS)}")
    cfg = Config(args.scale, args.runs, args.seed, only, args.ingest_cmd, args.naive_every, args.timeout, args.keep,
                 args.out.absolute())
    started = datetime.now(UTC)
    print(f"Generating inputs (scale {cfg.scale:g}, seed {cfg.seed}) …", file=sys.stderr, flush=True)
    work = cfg.out / "runs"
    work.mkdir(parents=True, exist_ok=True)
    bench = Bench(cfg, work)
    print(f"{len(bench.files)} workbooks ({bench.backfill_rows:,} table rows); large table {cfg.large_rows:,} rows",
          file=sys.stderr, flush=True)
    for run in range(1, cfg.runs + 1):
        print(f"Run {run}/{cfg.runs}", file=sys.stderr, flush=True)
        bench.run_once(run)
    saved = save(bench, started, args.results)
    report = write_report(args.results, args.report)
    print(f"Results: {saved}; report: {report} "
          f"({(datetime.now(UTC) - started).total_seconds() / 60:.1f} min)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
