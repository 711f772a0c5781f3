"""Shared test set-up: Prefect in a temp home with one test harness per session, sample files, real files."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

_PREFECT_HOME = tempfile.mkdtemp(prefix="niengiam-prefect-")
os.environ.update(
    {
        "PREFECT_HOME": _PREFECT_HOME,
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
        "PREFECT_LOGGING_LEVEL": "WARNING",
        "PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL": "CRITICAL",
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
    }
)
for name in ("NIENGIAM_HOME", "NIENGIAM_DATABASE", "NIENGIAM_INBOX", "PREFECT_API_URL"):
    os.environ.pop(name, None)

REALDATA = Path(__file__).resolve().parents[2] / "shared" / "realdata"


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[None]:
    """One Prefect test harness (a temporary server) for every flow test of the session."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture
def settings(tmp_path: Path):
    """Settings with every path inside a fresh temporary home."""
    from flows.settings import load_settings

    return load_settings(env={}, home=tmp_path / "home")


@pytest.fixture(scope="session")
def sample_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo's sample workbooks, written once per session."""
    from niengiam.samples import write_samples

    folder = tmp_path_factory.mktemp("samples")
    write_samples(folder)
    return folder


@pytest.fixture
def realdata() -> Path:
    """The shared real spreadsheets; the test is skipped where ../shared is absent (a user's clone)."""
    if not REALDATA.is_dir():
        pytest.skip("../shared/realdata is absent (real spreadsheets are not part of the repository)")
    return REALDATA
