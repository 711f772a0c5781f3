"""Prefect's temporary server started ahead (flows.prefect_server): Prefect's own command, handed to
Prefect's client once it answers, and left to the client when it does not start."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from flows import prefect_server

ROOT = Path(__file__).resolve().parents[1]


def test_the_server_is_started_with_prefects_own_command(monkeypatch: pytest.MonkeyPatch) -> None:
    import prefect.server.api.server as prefect_api_server
    from prefect.settings import get_current_settings

    started: list[tuple[list[str], dict[str, str]]] = []
    monkeypatch.setattr(prefect_api_server.subprocess, "Popen", lambda args, env: started.append((args, env)))
    prefect_api_server.SubprocessASGIServer(port=8123)._run_uvicorn_command()
    assert started and prefect_server.command(8123, get_current_settings()) == started[0]


def test_a_server_that_does_not_start_is_left_to_prefects_client(monkeypatch: pytest.MonkeyPatch) -> None:
    from prefect.server.api.server import SubprocessASGIServer
    from prefect.settings import get_current_settings

    monkeypatch.setattr(SubprocessASGIServer, "_instances", {})  # not the session harness's server
    monkeypatch.setattr(prefect_server, "command", lambda port, settings: ([sys.executable, "-c", "exit(1)"], {}))
    ahead = prefect_server.ServerAhead(get_current_settings())
    assert not ahead.hand_over()
    assert not ahead.starting() and ahead.process.poll() == 1
    assert not SubprocessASGIServer().running  # the client starts its own, as without niengiam


def test_a_port_taken_meanwhile_is_tried_again_on_another(monkeypatch: pytest.MonkeyPatch) -> None:
    from prefect.settings import get_current_settings

    ports: list[int] = []

    def exits(port: int, settings: object) -> tuple[list[str], dict[str, str]]:
        ports.append(port)  # the first one reports its port taken (uvicorn's 3), the next one fails
        return [sys.executable, "-c", f"exit({prefect_server.EXIT_PORT_TAKEN if len(ports) == 1 else 1})"], {}

    monkeypatch.setattr(prefect_server, "command", exits)
    ahead = prefect_server.ServerAhead(get_current_settings())
    ahead._waiting.join(60)
    assert len(ports) == 2 and not ahead.ready and ahead.port == ports[1]


def test_nothing_is_started_when_prefect_has_a_server(prefect_harness, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(settings: object) -> None:
        raise AssertionError("a server was started although PREFECT_API_URL names one")

    monkeypatch.setattr(prefect_server, "ServerAhead", refuse)
    with prefect_server.started_ahead() as starting:
        assert not starting()


SCRIPT = textwrap.dedent("""
    import json, os, sys
    from flows import prefect_server

    def uvicorns():
        found = []
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                parent = int(open(f"/proc/{pid}/stat").read().split(")")[1].split()[1])
                if parent == os.getpid() and b"uvicorn" in open(f"/proc/{pid}/cmdline", "rb").read():
                    found.append(int(pid))
            except OSError:
                pass
        return found

    assert "prefect" not in sys.modules
    with prefect_server.started_ahead() as starting:
        was_starting = starting()
        before_prefect = starting.__self__.before_prefect
    from prefect import flow, task
    from prefect.settings import get_current_settings

    @task
    def add(x: int) -> int:
        return x + 1

    @flow
    def answer() -> int:
        return add(41)

    state = answer(return_state=True)
    print(json.dumps({"was_starting": was_starting, "before_prefect": before_prefect, "result": state.result(),
                      "servers": uvicorns(),
                      "api_url": get_current_settings().api.url, "env": os.environ.get("PREFECT_API_URL"),
                      "server_module": "prefect.server.api.server" in sys.modules}))
""")


@pytest.mark.slow
def test_a_flow_runs_on_the_server_started_ahead_and_no_other(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API_URL")}
    env |= {"PREFECT_HOME": str(tmp_path / "prefect"), "PYTHONPATH": str(ROOT)}
    (tmp_path / "prefect").mkdir()
    run = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=300,
                         cwd=ROOT)
    assert run.returncode == 0, run.stderr[-3000:]
    seen = json.loads(run.stdout.strip().splitlines()[-1])
    assert seen["was_starting"] and seen["result"] == 42
    assert seen["before_prefect"]  # launched before Prefect's settings were imported (≈ 1 s of CPU)
    assert len(seen["servers"]) == 1  # Prefect's client used it and started none of its own …
    assert seen["api_url"] == seen["env"] and seen["env"].startswith("http://127.0.0.1:")  # … named by its URL,
    assert not seen["server_module"]  # … so the client never imported its server module (≈ 2.7 s of CPU)
    ps = subprocess.run(["ps", "-eo", "pid,args"], capture_output=True, text=True).stdout
    assert not any(line.split()[0] == str(seen["servers"][0]) for line in ps.splitlines()[1:])  # stopped at exit


UVICORNS = SCRIPT[: SCRIPT.index("assert \"prefect\" not in sys.modules")]  # imports and uvicorns()


def _run(script: str, env: dict[str, str], cwd: Path) -> dict:
    run = subprocess.run([sys.executable, "-c", script], env={**env, "PYTHONPATH": str(ROOT)}, capture_output=True,
                         text=True, timeout=120, cwd=cwd)
    assert run.returncode == 0, run.stderr[-3000:]
    return json.loads(run.stdout.strip().splitlines()[-1])


def _clean_env(home: Path) -> dict[str, str]:
    home.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_API_URL", "PREFECT_PROFILE"))}
    return env | {"PREFECT_HOME": str(home)}


UNWANTED = UVICORNS + textwrap.dedent("""
    wanted = prefect_server._wanted_before_prefect()
    with prefect_server.started_ahead() as starting:
        still = starting()
        servers = uvicorns()
    print(json.dumps({"wanted_before": wanted, "starting": still, "servers": servers, "after": uvicorns(),
                      "env": os.environ.get("PREFECT_API_URL")}))
""")


def test_a_profile_naming_a_server_starts_none(tmp_path: Path) -> None:
    """A profile's API URL is seen before Prefect is imported: no server is launched, even for a moment."""
    home = tmp_path / "prefect"
    env = _clean_env(home)
    (home / "profiles.toml").write_text('active = "remote"\n[profiles.remote]\n'
                                       'PREFECT_API_URL = "http://127.0.0.1:9/api"\n')
    seen = _run(UNWANTED, env, tmp_path)
    assert not seen["wanted_before"] and not seen["starting"] and seen["servers"] == [] and seen["env"] is None


def test_a_server_launched_before_prefects_settings_said_no_is_stopped(tmp_path: Path) -> None:
    """A prefect.toml in the working folder turning the temporary server off is only seen once Prefect's
    settings are read: the server launched before is stopped then, and none is left."""
    env = _clean_env(tmp_path / "prefect")
    (tmp_path / "prefect.toml").write_text("[server.ephemeral]\nenabled = false\n")
    seen = _run(UNWANTED, env, tmp_path)
    assert seen["wanted_before"] and not seen["starting"]
    assert seen["servers"] == [] and seen["after"] == [] and seen["env"] is None


SETTINGS = textwrap.dedent("""
    import json, os, subprocess, sys
    from flows import prefect_server

    _, early_env = prefect_server.command(8123, None)  # before Prefect is imported
    from prefect.settings import get_current_settings
    _, env = prefect_server.command(8123, get_current_settings())
    dump = "from prefect.settings import get_current_settings; print(get_current_settings().model_dump_json())"
    seen = [json.loads(subprocess.run([sys.executable, "-c", dump], env=e, capture_output=True, text=True,
                                      check=True).stdout) for e in (early_env, env)]
    print(json.dumps({"early": seen[0], "prefect": seen[1]}))
""")


def test_a_server_launched_before_prefect_resolves_the_same_settings(tmp_path: Path) -> None:
    """The server launched with the environment alone reads the settings Prefect would have passed it from
    the same sources: the profile and the working folder's prefect.toml here."""
    home = tmp_path / "prefect"
    env = _clean_env(home) | {"PREFECT_SERVER_DATABASE_TIMEOUT": "17"}
    (home / "profiles.toml").write_text('active = "mine"\n[profiles.mine]\nPREFECT_SERVER_DATABASE_SQLALCHEMY_POOL_SIZE = "3"\n')
    (tmp_path / "prefect.toml").write_text("[server.services.scheduler]\nloop_seconds = 41\n")
    seen = _run(SETTINGS, env, tmp_path)
    server = seen["early"]["server"]
    assert server["database"]["timeout"] == 17 and server["database"]["sqlalchemy"]["pool_size"] == 3
    assert server["services"]["scheduler"]["loop_seconds"] == 41
    assert seen["early"] == seen["prefect"]
