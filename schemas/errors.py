"""Typed errors: data problems are terminal, transient problems may be retried."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class NiengiamError(Exception):
    """An error meant for people: what went wrong, where, and what to do next."""

    message: str
    file: str | None = None
    sheet: str | None = None
    cell: str | None = None
    hint: str | None = None
    details: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(self.message)

    def where(self) -> str:
        """'file, sheet 'S', cell B7' — as much of the location as is known."""
        parts = []
        if self.file:
            parts.append(self.file)
        if self.sheet:
            parts.append(f"sheet '{self.sheet}'")
        if self.cell:
            parts.append(f"cell {self.cell}")
        return ", ".join(parts)

    def __str__(self) -> str:
        where = self.where()
        text = f"{where}: {self.message}" if where else self.message
        if self.hint:
            text += f"{'' if text.endswith(('.', '!', '?', ':')) else '.'} {self.hint}"
        return text


class DataError(NiengiamError):
    """The input itself is wrong (layout, values, format): terminal, never retried."""


class UnknownLayoutError(DataError):
    """No layout spec recognises the file; carries the diff against the nearest spec."""


class TransientError(NiengiamError):
    """A passing condition (locked database, file still being copied, I/O): worth retrying."""


class UsageError(NiengiamError):
    """The user asked for something that cannot be done as asked (bad path, unknown year)."""
