"""The prompt log: one SQLite row per model call the command line makes.

On by default; ``allm logs off`` stops new rows and keeps the old ones. A row holds what was
asked and answered (prompt, system prompt, attachments by path, ``-o`` options, the response
text, finish reason, error, token counts and cost) and never a key: keys are not options.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["COLUMNS", "LogEntry", "count", "latest", "record"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS responses (
    id TEXT PRIMARY KEY,
    datetime_utc TEXT NOT NULL,
    model TEXT NOT NULL,
    system TEXT,
    prompt TEXT NOT NULL,
    attachments TEXT NOT NULL,
    options TEXT NOT NULL,
    response TEXT NOT NULL,
    finish_reason TEXT,
    error TEXT,
    input_tokens INTEGER,
    output_tokens INTEGER,
    total_cost REAL,
    duration_ms INTEGER,
    conversation_id TEXT
)
"""
COLUMNS = (
    "id",
    "datetime_utc",
    "model",
    "system",
    "prompt",
    "attachments",
    "options",
    "response",
    "finish_reason",
    "error",
    "input_tokens",
    "output_tokens",
    "total_cost",
    "duration_ms",
    "conversation_id",
)
_JSON_COLUMNS = frozenset({"attachments", "options"})


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One logged call."""

    id: str
    datetime_utc: str
    model: str
    prompt: str
    response: str
    system: str | None = None
    attachments: tuple[str, ...] = ()
    options: dict[str, Any] = field(default_factory=dict)
    finish_reason: str | None = None
    error: str | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    total_cost: float | None = None
    duration_ms: int | None = None
    conversation_id: str | None = None

    def as_row(self) -> tuple[Any, ...]:
        values = []
        for name in COLUMNS:
            value = getattr(self, name)
            values.append(
                json.dumps(list(value) if name == "attachments" else value)
                if name in _JSON_COLUMNS
                else value
            )
        return tuple(values)

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> LogEntry:
        fields = {name: row[name] for name in COLUMNS}
        fields["attachments"] = tuple(json.loads(fields["attachments"]))
        fields["options"] = json.loads(fields["options"])
        return cls(**fields)


@contextmanager
def _connect(path: Path) -> Iterator[sqlite3.Connection]:
    path.parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(path)
    try:
        connection.row_factory = sqlite3.Row
        connection.execute(_SCHEMA)
        with connection:
            yield connection
    finally:
        connection.close()


def record(path: Path, entry: LogEntry) -> None:
    """Add ``entry`` to the log at ``path`` (created on first use)."""
    placeholders = ", ".join("?" for _ in COLUMNS)
    with _connect(path) as connection:
        connection.execute(
            f"INSERT INTO responses ({', '.join(COLUMNS)}) VALUES ({placeholders})",
            entry.as_row(),
        )


def latest(path: Path, count: int) -> list[LogEntry]:
    """The latest ``count`` entries, oldest first (no file yet: none)."""
    if not path.exists():
        return []
    with _connect(path) as connection:
        rows = connection.execute(
            "SELECT * FROM responses ORDER BY datetime_utc DESC, rowid DESC LIMIT ?", (count,)
        ).fetchall()
    return [LogEntry.from_row(row) for row in reversed(rows)]


def count(path: Path) -> int:
    """How many calls are logged."""
    if not path.exists():
        return 0
    with _connect(path) as connection:
        (total,) = connection.execute("SELECT COUNT(*) FROM responses").fetchone()
    return int(total)
