"""Where the command line keeps its files, and the two small JSON files it owns.

Everything lives in one user directory: ``$ALLM_USER_DIR`` when set, else the platform's user
data directory for ``allm`` (``$XDG_DATA_HOME/allm``, by default ``~/.local/share/allm`` on
Linux). In it: ``keys.json`` (API keys, mode 0600), ``settings.json`` (logs on or off, the last
conversation), ``logs.db`` (the prompt log) and ``sessions.db`` (chat conversations).
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

__all__ = [
    "UserFileError",
    "key_file",
    "logs_db",
    "read_keys",
    "read_settings",
    "sessions_db",
    "settings_file",
    "user_dir",
    "write_keys",
    "write_settings",
]


class UserFileError(Exception):
    """A file in the user directory that cannot be read or written (a user error)."""


def user_dir() -> Path:
    """The directory of the command line's files (not created here)."""
    override = os.environ.get("ALLM_USER_DIR")
    if override:
        return Path(override).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("allm", appauthor=False))


def key_file() -> Path:
    """The user key file."""
    return user_dir() / "keys.json"


def settings_file() -> Path:
    """The command line's own settings."""
    return user_dir() / "settings.json"


def logs_db() -> Path:
    """The SQLite database of logged prompts and responses."""
    return user_dir() / "logs.db"


def sessions_db() -> Path:
    """The SQLite session store of ``allm chat`` (its directory is created here)."""
    path = user_dir() / "sessions.db"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserFileError(f"cannot create {path.parent}: {exc.strerror}") from None
    return path


def _read_object(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise UserFileError(f"cannot read {path}: {exc.strerror}") from None
    try:
        value = json.loads(text)
    except ValueError:
        raise UserFileError(f"{path} is not valid JSON; fix or delete it") from None
    if not isinstance(value, dict):
        raise UserFileError(f"{path} must hold a JSON object; fix or delete it")
    return value


def _write_object(path: Path, value: dict[str, Any], mode: int) -> None:
    """Replace ``path`` atomically by a file created with ``mode`` (never readable by others
    in between, which a write-then-chmod would allow)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        try:
            os.fchmod(handle, mode)
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                json.dump(value, out, indent=2, sort_keys=True)
                out.write("\n")
            os.replace(temporary, path)
        except BaseException:
            if os.path.exists(temporary):
                os.unlink(temporary)
            raise
    except OSError as exc:
        raise UserFileError(f"cannot write {path}: {exc.strerror}") from None


def read_keys() -> dict[str, str]:
    """The stored keys, by provider."""
    path = key_file()
    keys = _read_object(path)
    bad = sorted(name for name, key in keys.items() if not isinstance(key, str))
    if bad:
        raise UserFileError(f"{path}: the keys of {', '.join(bad)} are not strings")
    return keys


def write_keys(keys: dict[str, str]) -> None:
    """Store ``keys`` in the key file, mode 0600."""
    _write_object(key_file(), keys, 0o600)


def read_settings() -> dict[str, Any]:
    """The command line's settings (``logs``: bool, ``last_session``: an id)."""
    return _read_object(settings_file())


def write_settings(changes: dict[str, Any]) -> None:
    """Merge ``changes`` into the settings file."""
    _write_object(settings_file(), {**read_settings(), **changes}, 0o600)
