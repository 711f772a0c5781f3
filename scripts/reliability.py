"""Regenerate RELIABILITY.md: the broken-input corpus and a loop of SIGKILL crash trials, measured for real.

Run with `make reliability`. It starts its own `prefect server` on a free loopback port (so every trial is
a real ingestion process against a real server), writes everything under a temporary folder, and stops
the server by its process id at the end.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import duckdb

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from niengiam.samples import write_samples  # noqa: E402
from tests._ops import Running, free_port  # noqa: E402
from tests.corpus import CASES, safe_file_name  # noqa: E402
from warehouse.archive import display_name  # noqa: E402

FACTS = ["core.fct_industrial_output", "core.fct_trade", "core.fct_awards"]


def _env(api: str, home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NIENGIAM_")}
    env.update(PREFECT_API_URL=api, NIENGIAM_HOME=str(home), PYTHONUNBUFFERED="1", DO_NOT_TRACK="1",
               PREFECT_SERVER_ANALYTICS_ENABLED="false", PREFECT_LOGGING_LEVEL="WARNING", **extra)
    return env


def _cli(args: list[str], env: dict[str, str], timeout: float = 900) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "flows.cli", *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=timeout)


def _query(database: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(database), read_only=True) as con:
        return con.execute(sql).fetchall()


def partial_loads(database: Path) -> int:
    """Loads whose facts do not match the ledger: rows of a load that did not finish, or a count that differs."""
    if not database.exists():
        return 0
    union = " union all ".join(f"select _load_id from {t}" for t in FACTS)
    rows = _query(database, f"""
        with f as ({union}), per_load as (select _load_id, count(*) as n from f group by 1)
        select l.status, l.rows_loaded, coalesce(p.n, 0)
        from meta.loads as l full join per_load as p on p._load_id = l.load_id""")
    return sum(1 for status, rows_loaded, found in rows
               if (found and (status != "loaded" or found != rows_loaded)) or (status == "loaded" and found != rows_loaded))


def lost_files(database: Path, sent: list[Path]) -> int:
    """Files that were sent but have no archived copy."""
    import hashlib

    archived = {(sha, Path(path).is_file()) for sha, path in _query(database, "select sha256, archive_path from meta.source_files")}
    present = {sha for sha, ok in archived if ok}
    return sum(1 for p in sent if hashlib.sha256(p.read_bytes()).hexdigest() not in present)


def run_corpus(api: str, work: Path) -> dict[str, object]:
    """Ingest the good samples, then every broken case; count what was refused clearly and what was kept."""
    home, folder = work / "corpus-home", work / "corpus"
    folder.mkdir(parents=True)
    write_samples(home / "inbox")
    env = _env(api, home, NIENGIAM_MAX_FILE_MB="2")
    assert _cli(["ingest", "--quiet"], env).returncode == 0, "the samples must load"
    database = home / "warehouse.duckdb"
    before = [_query(database, f"select count(*), bit_xor(hash(f)) from {t} as f") for t in FACTS]
    sent = []
    for case in CASES:
        path = folder / safe_file_name(case.file_name)
        case.build(path)
        sent.append(path)
    started = time.monotonic()
    result = _cli(["ingest", str(folder)], env)
    seconds = time.monotonic() - started
    handled, unhandled = 0, []
    text = result.stdout + result.stderr
    for case, path in zip(CASES, sent, strict=True):
        shown = display_name(path)[:40]
        line = next((line for line in result.stdout.splitlines() if shown in line), "")
        refused = any(word in line for word in ("rejected", "failed"))
        ok = refused and all(word in text for word in case.mentions)
        handled += int(ok)
        if not ok:
            unhandled.append(f"{case.name} ({line.strip()[:120] or 'no summary line'})")
    after = [_query(database, f"select count(*), bit_xor(hash(f)) from {t} as f") for t in FACTS]
    return {
        "tried": len(CASES), "handled": handled, "unhandled": unhandled, "exit_code": result.returncode,
        "traceback": "Traceback" in text, "facts_unchanged": before == after,
        "partial": partial_loads(database), "lost": lost_files(database, sent), "seconds": seconds,
    }


def run_crashes(api: str, work: Path, trials: int, seed: int) -> dict[str, object]:
    """Kill real ingestion processes with SIGKILL at random moments; check consistency after each kill."""
    home = work / "crash-home"
    write_samples(home / "inbox")
    env = _env(api, home, NIENGIAM_BATCH_SIZE="3")
    database = home / "warehouse.duckdb"
    chance = random.Random(seed)
    survived, partial_found, moments = 0, 0, []
    for trial in range(trials):
        if trial % 4 == 3:  # now and then, start over, so that later kills land in loads again
            for leftover in [*database.parent.glob("warehouse.duckdb*"), *database.parent.glob("snapshot/*")]:
                leftover.unlink()
        victim = Running(["ingest", "--home", str(home)], env)
        victim.wait_for("Ingesting", timeout=120)
        moment = chance.uniform(0.2, 6.0)
        moments.append(moment)
        time.sleep(moment)
        os.kill(victim.process.pid, signal.SIGKILL)
        victim.process.wait()
        found = partial_loads(database)
        partial_found += found
        survived += int(found == 0)
    final = _cli(["ingest", "--home", str(home), "--quiet"], env)
    rerun = _cli(["rerun", "--failed", "--home", str(home), "--quiet"], env)
    loaded = _query(database, "select count(distinct source_sha256) from meta.loads where status = 'loaded'")[0][0]
    running = _query(database, "select count(*) from meta.loads where status = 'running'")[0][0]
    return {
        "trials": trials, "survived": survived, "partial": partial_found, "moments": moments,
        "completed": final.returncode == 0 and rerun.returncode in (0, 1) and loaded == 18 and running == 0,
        "loaded_after": loaded,
    }


def _commit() -> str:
    out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True)
    dirty = subprocess.run(["git", "status", "--porcelain"], cwd=REPO, capture_output=True, text=True).stdout.strip()
    return out.stdout.strip() + (" (with uncommitted changes)" if dirty else "")


def render(corpus: dict, crashes: dict) -> str:
    """The RELIABILITY.md text."""
    moments = ", ".join(f"{m:.1f}" for m in crashes["moments"])
    return f"""# Reliability

Regenerated by `make reliability` ({Path(__file__).relative_to(REPO)}). Measured on commit `{_commit()}`,
{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, on {os.cpu_count()} cores.

| measure | result | must be |
|---|---|---|
| broken-input cases tried | {corpus["tried"]} | ≥ 30 |
| cases handled (refused, with a message naming the file and the cell or reason) | {corpus["handled"]} | all |
| exit code of `niengiam ingest` over the corpus | {corpus["exit_code"]} | non-zero |
| tracebacks shown | {"yes" if corpus["traceback"] else "none"} | none |
| facts changed by the broken files | {"none" if corpus["facts_unchanged"] else "CHANGED"} | none |
| partial loads found (corpus) | {corpus["partial"]} | 0 |
| files lost (sent but not archived) | {corpus["lost"]} | 0 |
| time to refuse the whole corpus (incl. a 2 GB zip bomb, refused unopened) | {corpus["seconds"]:.1f} s | bounded |
| crash trials (SIGKILL at a random moment of a real ingestion) | {crashes["trials"]} | ≥ 20 |
| crash trials after which the warehouse was consistent | {crashes["survived"]} | all |
| partial loads found after kills | {crashes["partial"]} | 0 |
| re-run completed everything afterwards (18 files loaded, none left running) | {"yes" if crashes["completed"] else "NO"} ({crashes["loaded_after"]} loaded) | yes |

"Consistent" means that every fact row belongs to a load the ledger marks `loaded`, and that every such
load has exactly the number of rows it recorded. No partition was ever half written.

Kill moments (seconds after "Ingesting" was printed): {moments}.

Cases not counted as handled: {"; ".join(corpus["unhandled"]) or "none"}.

The cases are listed in `tests/corpus.py`. The same corpus runs in `make test`
(`tests/test_broken_inputs.py`), and so does a shorter crash loop (`tests/test_crash_ops.py`).
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--seed", type=int, default=20260115)
    parser.add_argument("--output", type=Path, default=REPO / "RELIABILITY.md")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="niengiam-reliability-") as tmp:
        work = Path(tmp)
        port = free_port()
        server_env = {**os.environ, "PREFECT_HOME": str(work / "prefect"), "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
                      "DO_NOT_TRACK": "1", "PREFECT_LOGGING_LEVEL": "WARNING"}
        server = subprocess.Popen(
            [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port)],
            env=server_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )
        api = f"http://127.0.0.1:{port}/api"
        try:
            _wait_for_server(api)
            print("corpus …", file=sys.stderr, flush=True)
            corpus = run_corpus(api, work)
            print(f"crash trials ({args.trials}) …", file=sys.stderr, flush=True)
            crashes = run_crashes(api, work, args.trials, args.seed)
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
    args.output.write_text(render(corpus, crashes), encoding="utf-8")
    print(f"wrote {args.output}", file=sys.stderr)
    ok = corpus["handled"] == corpus["tried"] and corpus["partial"] == 0 and corpus["lost"] == 0
    ok = ok and crashes["partial"] == 0 and crashes["completed"]
    return 0 if ok else 1


def _wait_for_server(api: str, timeout: float = 120) -> None:
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{api}/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"the Prefect server at {api} did not start within {timeout:.0f} s")


if __name__ == "__main__":
    raise SystemExit(main())
