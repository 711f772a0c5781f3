"""niengiam serve against a REAL `prefect server start`: the yearly deployment, its schedule and next run,
a triggered run that fills the warehouse, and a clean stop on SIGTERM."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests._ops import REPO, Running, cli_env, copy_samples, free_port, query

PREFECT = str(Path(sys.executable).parent / "prefect")
VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")


def _wait(what: str, check, timeout: float = 180, every: float = 1.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(every)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def prefect_server(tmp_path: Path):
    """`prefect server start` on a free loopback port, in its own PREFECT_HOME; stopped by its process id."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_API_URL", "NIENGIAM_"))}
    env.update(PREFECT_HOME=str(tmp_path / "prefect-server"), PREFECT_UI_ENABLED="false",
               PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS="2")
    log = (tmp_path / "server.log").open("w")
    server = subprocess.Popen([PREFECT, "server", "start", "--host", "127.0.0.1", "--port", str(port)],
                              env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    api = f"http://127.0.0.1:{port}/api"

    def healthy() -> bool:
        assert server.poll() is None, (tmp_path / "server.log").read_text()
        try:
            return httpx.get(f"{api}/health", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        _wait("the Prefect server", healthy, timeout=180)
        yield api
    finally:
        os.killpg(server.pid, signal.SIGTERM)  # the server and the processes it started, by its id
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        log.close()


def _post(api: str, path: str, body: dict) -> list | dict:
    response = httpx.post(f"{api}{path}", json=body, timeout=10)
    response.raise_for_status()
    return response.json()


def _next_15_january(now: datetime) -> datetime:
    candidate = datetime(now.year, 1, 15, 8, 0, tzinfo=VIETNAM)
    return candidate if candidate > now else candidate.replace(year=now.year + 1)


@pytest.mark.slow
def test_serve_schedules_yearly_runs_and_a_triggered_run_fills_the_warehouse(
    prefect_server: str, sample_dir: Path, tmp_path: Path
) -> None:
    api, home = prefect_server, tmp_path / "home"
    copy_samples(sample_dir, home / "inbox")
    env = cli_env(api, PREFECT_HOME=str(tmp_path / "prefect-client"))
    serve = Running(["serve", "--home", str(home)], env)
    try:
        serve.wait_for("Serving 'niengiam-yearly/yearly'")
        deployment = _wait("the deployment", lambda: _post(api, "/deployments/filter", {
            "deployments": {"name": {"any_": ["yearly"]}}}))[0]
        schedule = deployment["schedules"][0]
        assert schedule["schedule"]["cron"] == "0 8 15 1 *"
        assert schedule["schedule"]["timezone"] == "Asia/Ho_Chi_Minh"
        assert schedule["active"] and not deployment["paused"]
        assert deployment["parameters"]["home"] == str(home)

        runs_of = {"deployments": {"id": {"any_": [deployment["id"]]}}}
        scheduled = _wait("the scheduler's next run", lambda: _post(api, "/flow_runs/filter", {
            **runs_of, "flow_runs": {"state": {"type": {"any_": ["SCHEDULED"]}}}, "sort": "EXPECTED_START_TIME_ASC"}))
        next_run = datetime.fromisoformat(scheduled[0]["expected_start_time"])
        assert next_run == _next_15_january(datetime.now(VIETNAM))

        trigger = subprocess.run([PREFECT, "deployment", "run", "niengiam-yearly/yearly", "-p", "reference_year=2015"],
                                 env=env, cwd=REPO, capture_output=True, text=True, timeout=120)
        assert trigger.returncode == 0, trigger.stderr + trigger.stdout
        run_id = re.search(r"UUID: ([0-9a-f-]{36})", trigger.stdout).group(1)

        def finished() -> dict | None:
            run = httpx.get(f"{api}/flow_runs/{run_id}", timeout=10).json()
            return run if run["state"]["type"] in ("COMPLETED", "FAILED", "CRASHED", "CANCELLED") else None

        run = _wait("the triggered run", finished, timeout=300, every=2)
        assert run["state"]["type"] == "COMPLETED", run["state"]["message"]
        assert run["name"] == "yearly-2015"
        assert "2015: industrial_output 16 rows, trade 14 rows, awards 7 rows" in run["state"]["message"]
    finally:
        serve.process.send_signal(signal.SIGTERM)
        code, _, stderr = serve.finish(timeout=60)
    assert code == 0, stderr
    assert "Stopped serving" in stderr
    assert _post(api, "/deployments/filter", {"deployments": {"name": {"any_": ["yearly"]}}})[0]["paused"]

    database = home / "snapshot" / "warehouse.duckdb"
    assert query(database, "select count(*), count(distinct flow_run_id) from meta.loads where status = 'loaded'") \
        == [(18, 1)]
    assert query(database, "select distinct flow_run_id from meta.loads") == [(run_id,)]


def _serve(tmp_path: Path, *args: str, api_url: str | None = None):
    from click.testing import CliRunner

    from flows.cli import main

    env = {"PREFECT_API_URL": api_url} if api_url else {"PREFECT_API_URL": ""}
    return CliRunner().invoke(main, ["serve", "--home", str(tmp_path / "home"), *args], env=env)


def test_serve_without_a_server_says_how_to_start_one(tmp_path: Path) -> None:
    result = _serve(tmp_path)
    assert result.exit_code == 2
    assert "serve needs a running Prefect server" in result.stderr
    assert "prefect server start --host 127.0.0.1 --port 4200" in result.stderr


def test_serve_with_nobody_listening_says_so(tmp_path: Path) -> None:
    result = _serve(tmp_path, api_url=f"http://127.0.0.1:{free_port()}/api")
    assert result.exit_code == 2 and "no Prefect server answers at" in result.stderr


@pytest.mark.parametrize("args", [["--cron", "every january"], ["--timezone", "Asia/Hanoi_City"]])
def test_serve_refuses_a_bad_schedule_in_one_sentence(tmp_path: Path, args: list[str]) -> None:
    result = _serve(tmp_path, *args)
    assert result.exit_code == 2 and result.stderr.startswith("niengiam: not a valid schedule")
