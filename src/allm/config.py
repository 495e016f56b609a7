"""Application-wide settings: the layer between an engine and the library defaults.

Precedence, one rule everywhere: call keyword > request field > engine > these settings > default.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace
from typing import Any

__all__ = ["Settings", "configure", "get_settings", "reset"]


@dataclass(frozen=True, slots=True)
class Settings:
    """Process-wide defaults. Change them with ``allm.configure(...)``."""

    keys: dict[str, str] = field(default_factory=dict, repr=False)
    load_dotenv: bool = False
    dotenv_path: str = ".env"
    max_turns: int | None = None
    structured_finalize_nudge: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    catalog: Any = None

    def __repr__(self) -> str:
        shown = ", ".join(
            f"{name}={getattr(self, name)!r}"
            for name in ("load_dotenv", "dotenv_path", "max_turns", "params", "catalog")
        )
        return f"Settings(keys=<{len(self.keys)} hidden>, {shown})"


_lock = threading.Lock()
_settings = Settings()


def get_settings() -> Settings:
    """The settings in force."""
    return _settings


def configure(**changes: Any) -> Settings:
    """Change process-wide settings; unknown names raise ``TypeError``. Returns the new settings."""
    global _settings
    with _lock:
        _settings = replace(_settings, **changes)
        return _settings


def reset() -> None:
    """Back to the library defaults (for tests)."""
    global _settings
    with _lock:
        _settings = Settings()
