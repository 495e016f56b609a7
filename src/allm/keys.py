"""API keys: resolved at call time, never stored on an engine or in serialized data.

Order, first non-empty string wins: the call's ``api_key=``, keys ``put`` here (a ``scoped``
override first), ``allm.configure(keys=...)``, the environment (``OPENAI_API_KEY``, ...), and a
``.env`` file when ``allm.configure(load_dotenv=True)``.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator, Mapping
from contextvars import ContextVar

from . import _secrets
from .config import get_settings
from .errors import EngineError

__all__ = ["delete", "env_vars", "fetch", "get", "locate", "parse_dotenv", "put", "scoped"]

_lock = threading.Lock()
_runtime: dict[str, str] = {}
_scoped: ContextVar[Mapping[str, str] | None] = ContextVar("allm_scoped_keys", default=None)

_ENV_VARS = {
    "openai": ("OPENAI_API_KEY",),
    "openai_compatible": ("OPENAI_COMPATIBLE_API_KEY",),
    "anthropic": ("ANTHROPIC_API_KEY",),
    "gemini": ("GEMINI_API_KEY", "GOOGLE_API_KEY"),
    "google": ("GOOGLE_API_KEY",),
    "azure": ("AZURE_OPENAI_API_KEY",),
    # A Bedrock API key (Bearer); without one, Bedrock signs with AWS credentials instead.
    "bedrock": ("AWS_BEARER_TOKEN_BEDROCK",),
    "vertex": ("GOOGLE_API_KEY",),  # Vertex AI express mode
}


def env_vars(provider: str) -> tuple[str, ...]:
    """The environment variables that may hold ``provider``'s key, in order."""
    return _ENV_VARS.get(provider, (f"{provider.upper()}_API_KEY",))


def put(provider: str, key: str) -> None:
    """Keep ``key`` for ``provider`` in this process."""
    _secrets.remember(key)
    with _lock:
        _runtime[provider] = key


def delete(provider: str) -> None:
    """Forget the key kept for ``provider`` (no error if there is none)."""
    with _lock:
        _runtime.pop(provider, None)


@contextlib.contextmanager
def scoped(keys: Mapping[str, str]) -> Iterator[None]:
    """Use ``keys`` inside the block only (per thread and asyncio task): for multi-tenant code."""
    current = _scoped.get() or {}
    token = _scoped.set({**current, **keys})
    try:
        yield
    finally:
        _scoped.reset(token)


def parse_dotenv(text: str) -> dict[str, str]:
    """A minimal ``.env`` reader: ``KEY=VALUE``, comments, blank lines, ``export``, double quotes."""
    values: dict[str, str] = {}
    for raw_line in text.splitlines():
        line = raw_line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[len("export ") :].lstrip()
        name, sep, value = line.partition("=")
        if not sep or not name.strip():
            continue
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1]
        values[name.strip()] = value
    return values


def _dotenv_values(path: str) -> dict[str, str]:
    try:
        with open(path, encoding="utf-8") as handle:
            return parse_dotenv(handle.read())
    except OSError:
        return {}


def get(provider: str, api_key: str | None = None) -> tuple[str, str] | None:
    """``(key, source)`` for ``provider``, or ``None``. Sources: opts, runtime, app_config, env, dotenv."""
    found = locate(provider, api_key)
    return None if found is None else (found[0], found[1])


def locate(provider: str, api_key: str | None = None) -> tuple[str, str, str] | None:
    """``(key, source, where)``: ``get`` plus where exactly the key came from, for messages that
    must name a key's origin without showing it (``"environment variable OPENAI_API_KEY"``).

    Every key found is remembered as a secret, so no error allm keeps can carry it."""
    found = _locate(provider, api_key)
    if found is not None:
        _secrets.remember(found[0])
    return found


def _locate(provider: str, api_key: str | None) -> tuple[str, str, str] | None:
    if api_key:
        return api_key, "opts", "the api_key= call keyword"
    scoped_keys = _scoped.get()
    if scoped_keys and scoped_keys.get(provider):
        return scoped_keys[provider], "runtime", f"allm.keys.scoped({{{provider!r}: ...}})"
    runtime_key = _runtime.get(provider)
    if runtime_key:
        return runtime_key, "runtime", f"allm.keys.put({provider!r}, ...)"
    settings = get_settings()
    configured = settings.keys.get(provider)
    if configured:
        return configured, "app_config", f"allm.configure(keys={{{provider!r}: ...}})"
    for name in env_vars(provider):
        value = os.environ.get(name)
        if value:
            return value, "env", f"environment variable {name}"
    if settings.load_dotenv:
        values = _dotenv_values(settings.dotenv_path)
        for name in env_vars(provider):
            if values.get(name):
                return values[name], "dotenv", f"{name} in the .env file {settings.dotenv_path}"
    return None


def checked_sources(provider: str) -> list[str]:
    """Where ``get`` looks for ``provider``'s key, described for an error message."""
    places = ["api_key= call keyword", "allm.keys.put", "allm.configure(keys=...)"]
    places += [f"environment variable {name}" for name in env_vars(provider)]
    settings = get_settings()
    if settings.load_dotenv:
        places.append(f".env file {settings.dotenv_path}")
    else:
        places.append(".env file (disabled; allm.configure(load_dotenv=True) enables it)")
    return places


def fetch(provider: str, api_key: str | None = None) -> str:
    """The key for ``provider``; raises ``EngineError("missing_key")`` naming every place looked at."""
    found = get(provider, api_key)
    if found is None:
        places = checked_sources(provider)
        raise EngineError(
            "missing_key",
            f"no API key for {provider}; looked at: " + ", ".join(places),
            provider=provider,
            metadata={"checked_sources": places},
        )
    return found[0]
