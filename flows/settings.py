"""Settings, read once at the entry point from the environment and the command line."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path


@dataclass(frozen=True)
class Settings:
    """Where niengiam keeps its files; every path can be overridden."""

    home: Path
    inbox: Path
    archive: Path
    staging: Path
    database: Path
    prefect_home: Path
    max_file_mb: float = 200.0
    lock_timeout_s: float = 60.0
    ingest_wait_s: float = 1800.0
    workers: int = 2
    batch_size: int = 0  # files per read task and per write; 0: about 14 batches a run, of 10 to 150 files
    dask_address: str | None = None  # a Dask scheduler to read and parse on (tcp://host:8786)
    dask_workers: int = 0  # > 0: a local Dask cluster of that many worker processes
    processes_from: int = 100  # a run of at least this many files parses on `workers` processes; 0: never
    early_start: bool = True  # hash and parse the named files while Prefect starts (flows.early)
    pause_before_commit_s: float = 0.0  # test hook: makes "killed mid-load" deterministic

    @property
    def snapshot(self) -> Path:
        """The read-only copy that readers (niengiam sql, BI tools) open; refreshed after each ingest."""
        return self.database.parent / "snapshot" / self.database.name

    @property
    def uses_dask(self) -> bool:
        """Whether reading and parsing run on a Dask cluster (an address, or a local cluster's size)."""
        return bool(self.dask_address) or self.dask_workers > 0

    @property
    def ingest_lock(self) -> Path:
        """The file whose lock serialises ingestions into this warehouse."""
        return self.database.parent / f".{self.database.name}.ingest.lock"
    yoy_bound_pct: float = 50.0

    def files_per_batch(self, total: int) -> int:
        """The batch size for a run of `total` files: the one set, or enough for about 14 batches of 10 to
        150 files.

        A batch is validated as one frame per dataset, and pandera and pandas cost ≈ 33 ms per dataset and
        batch whatever its size: validating the national backfill cost 2.7 ms a file in batches of 50,
        1.4 ms in batches of 150 (and the 2,040 files' run 3.3 s less wall time, median of four alternated
        pairs). Fourteen batches still let reading overlap writing, and 150 files are one wave
        of the writer (flows.writer).
        """
        return self.batch_size or min(150, max(10, -(-total // 14)))

    def with_database(self, database: Path | None) -> Settings:
        """A copy pointing at another warehouse file, when one is given."""
        return self if database is None else replace(self, database=database)


def load_settings(env: Mapping[str, str] | None = None, home: Path | None = None) -> Settings:
    """Build settings from NIENGIAM_* variables; `home` (from --home) wins over NIENGIAM_HOME."""
    env = os.environ if env is None else env
    root = Path(home or env.get("NIENGIAM_HOME") or "niengiam-home").expanduser().absolute()

    def path(name: str, default: Path) -> Path:
        value = env.get(name)
        return Path(value).expanduser().absolute() if value else default

    return Settings(
        home=root,
        inbox=path("NIENGIAM_INBOX", root / "inbox"),
        archive=path("NIENGIAM_ARCHIVE", root / "archive"),
        staging=path("NIENGIAM_STAGING", root / "staging"),
        database=path("NIENGIAM_DATABASE", root / "warehouse.duckdb"),
        prefect_home=path("NIENGIAM_PREFECT_HOME", root / "prefect"),
        max_file_mb=float(env.get("NIENGIAM_MAX_FILE_MB", "200")),
        lock_timeout_s=float(env.get("NIENGIAM_LOCK_TIMEOUT", "60")),
        ingest_wait_s=float(env.get("NIENGIAM_INGEST_WAIT", "1800")),
        workers=int(env.get("NIENGIAM_WORKERS", "2")),
        batch_size=int(env.get("NIENGIAM_BATCH_SIZE", "0")),
        dask_address=env.get("NIENGIAM_DASK_ADDRESS") or None,
        dask_workers=_count(env, "NIENGIAM_DASK_WORKERS", 0),
        processes_from=_count(env, "NIENGIAM_PARSE_PROCESSES_FROM", 100),
        early_start=_count(env, "NIENGIAM_EARLY_START", 1) > 0,
        pause_before_commit_s=float(env.get("NIENGIAM_TEST_PAUSE_BEFORE_COMMIT", "0")),
        yoy_bound_pct=float(env.get("NIENGIAM_YOY_BOUND", "50")),
    )


def _count(env: Mapping[str, str], name: str, default: int) -> int:
    """A whole number >= 0 from the environment; a UsageError naming the variable otherwise."""
    raw = env.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit():
        from schemas.errors import UsageError

        raise UsageError(f"{name} must be a whole number of 0 or more, not {raw!r}")
    return int(raw)


def prepare_prefect_env(settings: Settings, env: dict[str, str] | None = None, debug: bool = False) -> None:
    """Point Prefect at niengiam's home before Prefect is imported, unless the user chose otherwise.

    Prefect's console handler is silenced (niengiam prints its own progress and summary); its logs
    still reach the Prefect API, so the UI shows every failed task with its reason.
    """
    env = os.environ if env is None else env  # type: ignore[assignment]
    if not debug:
        env.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "CRITICAL")
    env.setdefault("PREFECT_HOME", str(settings.prefect_home))
    # Prefect does not create missing parents of its home; without it the temporary server never starts.
    Path(env["PREFECT_HOME"]).expanduser().mkdir(parents=True, exist_ok=True)
    env.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    env.setdefault("DO_NOT_TRACK", "1")
    env.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    env.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
