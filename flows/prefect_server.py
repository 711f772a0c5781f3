"""Prefect's temporary server, started as soon as Prefect's settings are read rather than on the flow's
first API call.

A command that runs a flow on the temporary server waits 10–20 s for it: one core busy starting the
server (its own imports, and the migrations of a new Prefect home) while the other is mostly idle.
Prefect's client starts it on the flow's first API call, after importing its server module (≈ 2.7 s of
CPU on this machine, the whole of Prefect's API); `started_ahead` launches the same server process
(Prefect's own command, tests compare the two) at once, so the flow's modules and the files named on the
command line (flows.early) use the other core while the server starts.

When Prefect is not imported yet and the environment names no server (a command line's process), the
process is launched even before Prefect's settings are read: importing them imports most of Prefect
(≈ 1 s of CPU, the other core idle meanwhile). The server resolves its settings from the same sources
(environment, profiles, the working directory's files); once Prefect's settings are read, a server they
do not want (an API URL named by a profile, the temporary server turned off) is stopped at once.

Once it answers, Prefect is pointed at it by URL (PREFECT_API_URL, as for any server), so the client
never imports the server module: the core that import took parses files ahead instead. The process is
stopped when the command ends, as the client stops its own. When the process does not start or does not
answer, it is stopped and the client starts its own, reporting what fails.
"""

from __future__ import annotations

import atexit
import contextlib
import importlib.util
import os
import random
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

_handed_over: str | None = None  # the API URL of the temporary server this process started and uses, if any
PORTS = range(8000, 9000)  # where Prefect looks for a free port for its temporary server
EXIT_PORT_TAKEN = 3  # uvicorn's exit code when the port was taken meanwhile (Prefect then picks another)


def command(port: int, prefect_settings: Any | None) -> tuple[list[str], dict[str, str]]:
    """The arguments and environment Prefect starts its temporary server with (SubprocessASGIServer).

    Without `prefect_settings` (launched before Prefect's settings are read), the environment is this
    process's: the settings Prefect would add are those it read from the same environment and files,
    which the server reads again."""
    args = [
        sys.executable, "-m", "uvicorn", "--app-dir", str(_site_packages()),
        "--factory", "prefect.server.api.server:create_app", "--host", "127.0.0.1", "--port", str(port),
        "--log-level", "error", "--lifespan", "on",
    ]
    env = {
        **os.environ,
        "PREFECT_UI_ENABLED": "0",
        "PREFECT__SERVER_EPHEMERAL": "1",
        "PREFECT__SERVER_FINAL": "1",
        **(prefect_settings.to_environment_variables(exclude_unset=True) if prefect_settings is not None else {}),
    }
    return args, env


def _site_packages() -> Path:
    """The folder Prefect is installed in (prefect.__module_path__.parent), found without importing it."""
    spec = importlib.util.find_spec("prefect")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("Prefect is not installed")
    return Path(next(iter(spec.submodule_search_locations))).parent


_OFF = {"0", "false", "f", "no", "n", "off"}


def _wanted_before_prefect() -> bool:
    """Whether the server may be launched before Prefect's settings are read: Prefect is not imported (a
    process that imported it may have overridden its settings in-process, as tests do), and neither the
    environment nor the profiles file names a server or turns the temporary one off. Other sources (a
    prefect.toml, a .env) are seen when the settings are read, and an unwanted server is then stopped."""
    if "prefect" in sys.modules or os.environ.get("PREFECT_API_URL"):
        return False
    for name in ("PREFECT_SERVER_EPHEMERAL_ENABLED", "PREFECT_SERVER_ALLOW_EPHEMERAL_MODE"):
        if os.environ.get(name, "").strip().lower() in _OFF:
            return False
    home = Path(os.environ.get("PREFECT_HOME", "~/.prefect")).expanduser()
    profiles = Path(os.environ.get("PREFECT_PROFILES_PATH") or home / "profiles.toml").expanduser()
    try:
        text = profiles.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return True  # no profiles: Prefect's own, whose active one is the temporary server
    return "PREFECT_API_URL" not in text and "EPHEMERAL" not in text


def _free_port() -> int:
    for _ in range(10):
        port = random.choice(PORTS)
        with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
            try:
                sock.bind(("127.0.0.1", port))
                return port
            except OSError:
                time.sleep(random.uniform(0.1, 0.5))
    raise RuntimeError("no free port for Prefect's temporary server")


class ServerAhead:
    """One temporary-server process, started now; a thread waits until it answers."""

    def __init__(self, prefect_settings: Any | None) -> None:
        """Started with Prefect's settings, or before they are read (None: the environment's, see command)."""
        self.settings = prefect_settings
        self.timeout_s = float(prefect_settings.server.ephemeral.startup_timeout_seconds if prefect_settings
                               else os.environ.get("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", 20))
        self._since = time.monotonic()
        self.port = _free_port()
        self.process = self._launch()
        self.ready = False
        self._waiting = threading.Thread(target=self._wait_until_it_answers, name="niengiam-prefect-server",
                                         daemon=True)
        self._waiting.start()

    @property
    def before_prefect(self) -> bool:
        """Whether it was launched before Prefect's settings were read."""
        return self.settings is None

    def _launch(self) -> subprocess.Popen:
        args, env = command(self.port, self.settings)
        return subprocess.Popen(args, env=env)

    def starting(self) -> bool:
        """Whether the server is still starting (neither answering nor given up on)."""
        return self._waiting.is_alive()

    def _wait_until_it_answers(self) -> None:
        local = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never through an http_proxy
        while time.monotonic() < self._since + self.timeout_s:  # the timeout may be set once settings are read
            code = self.process.poll()
            if code == EXIT_PORT_TAKEN:
                try:
                    self.port = _free_port()
                    self.process = self._launch()
                except (OSError, RuntimeError):
                    return  # not ready: left to Prefect's client
                continue
            if code is not None:
                return
            try:
                with local.open(f"http://127.0.0.1:{self.port}/api/health", timeout=2) as answer:
                    if answer.status == 200:
                        self.ready = True
                        return
            except OSError:
                pass
            time.sleep(0.1)

    @property
    def api_url(self) -> str:
        """The address of its API, as Prefect's own temporary server gives it."""
        return f"http://127.0.0.1:{self.port}/api"

    def hand_over(self) -> bool:
        """Point Prefect's client at the answering process (PREFECT_API_URL, for this process and those it
        starts); whether it answers. The process is stopped when the command ends, as Prefect's client
        stops its own temporary server."""
        self._waiting.join()
        if not self.ready:
            self.stop()
            return False
        from prefect.context import refresh_global_settings_context

        global _handed_over
        _handed_over = os.environ["PREFECT_API_URL"] = self.api_url
        refresh_global_settings_context()  # every thread sees it, the flow's and Prefect's own
        atexit.register(self.stop)
        return True

    def stop(self) -> None:
        """End the process (when it does not answer, and when the command ends)."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def temporary_url() -> str | None:
    """The API URL of the temporary server started ahead, when Prefect uses it (a server on 127.0.0.1, only
    for this machine: Dask workers elsewhere cannot reach it)."""
    return _handed_over


@contextmanager
def started_ahead() -> Iterator[Callable[[], bool]]:
    """Prefect's temporary server started now, and Prefect pointed at it when the block ends; the block
    gets whether it is still starting. Nothing when Prefect is pointed at a server (PREFECT_API_URL) or its
    temporary server is off (the block gets `lambda: False`)."""
    ahead = None
    if _wanted_before_prefect():
        with contextlib.suppress(OSError, RuntimeError):  # then started after the settings are read
            ahead = ServerAhead(None)
    from prefect.settings import get_current_settings

    prefect_settings = get_current_settings()
    if prefect_settings.api.url or not prefect_settings.server.ephemeral.enabled:
        if ahead is not None:
            ahead.stop()
        yield lambda: False
        return
    if ahead is not None:
        ahead.timeout_s = float(prefect_settings.server.ephemeral.startup_timeout_seconds)
    else:
        try:
            ahead = ServerAhead(prefect_settings)
        except (OSError, RuntimeError):  # the client starts it as it would have, and says what fails
            yield lambda: False
            return
    try:
        yield ahead.starting
    except BaseException:
        ahead.stop()
        raise
    ahead.hand_over()
