"""The raw archive: every received file, copied untouched under its sha256 before anything reads it."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import stat
import time
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from schemas.errors import DataError, TransientError

SPREADSHEET_SUFFIXES = {".xlsx", ".xlsm", ".xls", ".ods", ".csv", ".txt", ".tsv"}
_SAFE_SUFFIX = re.compile(r"^\.[a-z0-9]{1,5}$")


@dataclass(frozen=True)
class ArchivedFile:
    """A file in the archive: its hash, where the copy lies, and the name it was sent under."""

    sha256: str
    archive_path: Path
    display_name: str
    original_path: str
    size_bytes: int


def display_name(path: Path) -> str:
    """The file name made safe to show and store: no control characters, no folders, bounded length."""
    name = unicodedata.normalize("NFC", path.name)
    name = "".join(ch if ch.isprintable() else "?" for ch in name)
    name = name.replace("/", "_").replace("\\", "_")
    return name if len(name) <= 120 else name[:80] + "…" + name[-39:]


def sha256_of(path: Path, chunk: int = 1 << 20) -> str:
    """The file's sha256, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def wait_until_stable(path: Path, settle_s: float = 0.5, tries: int = 3, first: os.stat_result | None = None) -> int:
    """The file's size once it stops changing; TransientError while it is still being copied.

    `first`: the file's stat taken just before, saving one call (a re-run checks thousands of files).
    """
    first = first or path.stat()
    size = first.st_size
    if time.time() - first.st_mtime >= settle_s:
        return size
    for _ in range(tries):
        if time.time() - path.stat().st_mtime >= settle_s:
            return size
        time.sleep(settle_s)
        new_size = path.stat().st_size
        if new_size == size:
            return size
        size = new_size
    raise TransientError("the file is still being written", file=path.name, hint="It will be retried.")


def archive_path_for(archive_root: Path, sha: str, suffix: str) -> Path:
    """Where the archive keeps a file of this hash: its suffix in lower case, or .bin when it is unusual."""
    suffix = suffix.lower()
    return archive_root / sha[:2] / f"{sha}{suffix if _SAFE_SUFFIX.match(suffix) else '.bin'}"


def archive_file(path: Path, archive_root: Path, known_sha256: str | None = None) -> ArchivedFile:
    """Copy a file into the archive under its hash (once); the original is left where it was.

    `known_sha256`: the hash of the settled file taken moments ago by the same command (flows.early).
    """
    name = display_name(path)
    try:
        first = path.stat()
    except OSError:
        first = None
    if first is None or not stat.S_ISREG(first.st_mode):
        raise DataError("the file does not exist or is not a regular file", file=name)
    size = wait_until_stable(path, first=first)
    sha = known_sha256 or sha256_of(path)
    target = archive_path_for(archive_root, sha, path.suffix)
    if not target.exists():
        copy_atomically(path, target, "copy the file into the archive", name)
    return ArchivedFile(sha, target, name, str(path), size)


def copy_atomically(source: Path, target: Path, what: str, name: str) -> None:
    """Copy to a temporary file beside the target, then rename: others see the old file or the new one."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
    try:
        shutil.copyfile(source, partial)
        os.replace(partial, target)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise TransientError(f"could not {what} ({exc.strerror})", file=name) from exc


def _is_lock_file(name: str) -> bool:
    """Excel's '~$…' and LibreOffice's '.~lock.…#' files: not data, and held open by the editor."""
    return name.startswith(("~$", ".~lock."))


def find_inputs(paths: list[Path]) -> list[Path]:
    """Spreadsheet files among the given files and folders (folders searched recursively, sorted)."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += sorted(
                p for p in path.rglob("*")
                if p.is_file() and p.suffix.lower() in SPREADSHEET_SUFFIXES and not _is_lock_file(p.name)
            )
        else:
            found.append(path)
    return found
