"""Application-wide settings: the layer between an engine and the library defaults.

Precedence, one rule everywhere: call keyword > request field > engine > these settings > default.

``providers`` holds each provider's own transport settings (``base_url``, ``headers``, ...): what
a call uses when its model selects a provider the engine was not configured for (see
``docs/security.md``).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from .errors import ConfigurationError

__all__ = ["TRANSPORT_KEYS", "Settings", "configure", "get_settings", "reset"]

# Transport settings: read by HTTP adapters from their options (and from a provider's configured
# settings), never sent in a request body.
TRANSPORT_KEYS = frozenset(
    {
        "base_url",
        "headers",
        "timeout",
        "request_timeout",
        "receive_timeout",
        "pool_timeout",
        "stream_timeout",
        "http_client",
        "async_http_client",
        "endpoint",
        "max_sse_line_bytes",
        "max_connections",
    }
)
# Where a provider's resource is and how it is reached (Azure OpenAI, Vertex AI): configurable per
# provider like the transport settings, read only by the adapter that knows them.
PLACEMENT_KEYS = frozenset(
    {"resource", "api_version", "azure_ad_token_provider", "project", "location"}
)
_SECONDS = frozenset(
    {"timeout", "request_timeout", "receive_timeout", "pool_timeout", "stream_timeout"}
)
_ENDPOINTS = ("chat_completions", "responses")


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
    providers: dict[str, dict[str, Any]] = field(default_factory=dict, repr=False)

    def __repr__(self) -> str:
        shown = ", ".join(
            f"{name}={getattr(self, name)!r}"
            for name in ("load_dotenv", "dotenv_path", "max_turns", "params", "catalog")
        )
        # Option names only: header values may be credentials.
        providers = {name: sorted(opts) for name, opts in self.providers.items()}
        return f"Settings(keys=<{len(self.keys)} hidden>, {shown}, providers={providers!r})"


_lock = threading.Lock()
_settings = Settings()


def get_settings() -> Settings:
    """The settings in force."""
    return _settings


def configure(**changes: Any) -> Settings:
    """Change process-wide settings; unknown names raise ``TypeError``. Returns the new settings.

    ``providers={"anthropic": {"base_url": ..., "headers": {...}}}`` replaces every provider's
    settings (``providers={}`` clears them); an unknown provider or option, or a bad value, is a
    ``ConfigurationError`` listing every problem.

    Keyword Args:
        keys (dict[str, str]): API keys by provider, after ``allm.keys.put`` and before the
            environment.
        load_dotenv (bool): Also read keys from a ``.env`` file (default False).
        dotenv_path (str): That file (default ``".env"``).
        max_turns (int): The chat loop's default ``max_turns``.
        structured_finalize_nudge (str): The default message asking for the final structured
            answer.
        params (dict): Default request parameters, under every engine's.
        catalog (ModelCatalog): A model catalog (``allm.catalog.BundledCatalog()``): capability
            pre-flight and costs in ``Usage``.
        providers (dict[str, dict]): Settings per provider (``base_url``, ``headers``, ...).
    """
    global _settings
    if "providers" in changes:
        changes["providers"] = provider_settings(changes["providers"])
    with _lock:
        _settings = replace(_settings, **changes)
        return _settings


def reset() -> None:
    """Back to the library defaults (for tests)."""
    global _settings
    with _lock:
        _settings = Settings()


def provider_settings(value: Any) -> dict[str, dict[str, Any]]:
    """``value`` checked as ``configure(providers=...)``: a fresh dict, or a ``ConfigurationError``
    listing every problem (header values are never shown: they may be credentials)."""
    if not isinstance(value, Mapping):
        raise ConfigurationError(
            "invalid_option",
            problems=[f"providers must be a mapping of provider name to settings, got {value!r}"],
        )
    from .registry import provider_of, registered_names

    problems: list[str] = []
    checked: dict[str, dict[str, Any]] = {}
    for name, opts in value.items():
        where = f"providers[{name!r}]"
        if not isinstance(name, str) or name not in registered_names():
            known = sorted(registered_names())
            problems.append(f"{where}: unknown provider; registered: {', '.join(known)}")
            continue
        owner = provider_of(name)
        if owner != name:
            problems.append(f"{where}: adapter {name!r} reads the settings of provider {owner!r}")
            continue
        if not isinstance(opts, Mapping):
            problems.append(f"{where} must be a mapping of settings, got {type(opts).__name__}")
            continue
        for option, option_value in opts.items():
            problem = _option_problem(option, option_value)
            if problem is not None:
                problems.append(f"{where}[{option!r}]: {problem}")
        checked[name] = {
            option: dict(v) if isinstance(v, Mapping) else v for option, v in opts.items()
        }
    if problems:
        raise ConfigurationError("invalid_option", problems=problems)
    return checked


def _option_problem(option: Any, value: Any) -> str | None:
    if option in PLACEMENT_KEYS:
        if option == "azure_ad_token_provider":
            return None if callable(value) else f"must be a callable, got {type(value).__name__}"
        return None if isinstance(value, str) and value else f"must be a string, got {value!r}"
    if option not in TRANSPORT_KEYS:
        known = sorted(TRANSPORT_KEYS | PLACEMENT_KEYS)
        return f"unknown setting; known: {', '.join(known)}"
    if option == "base_url":
        return _url_problem(value)
    if option == "headers":
        return _headers_problem(value)
    if option in _SECONDS:
        number = isinstance(value, int | float) and not isinstance(value, bool)
        return (
            None
            if value is None or (number and value > 0)
            else f"must be seconds > 0, got {value!r}"
        )
    if option == "endpoint":
        return None if value in _ENDPOINTS else f"must be one of {_ENDPOINTS}, got {value!r}"
    if option == "max_sse_line_bytes":
        whole = isinstance(value, int) and not isinstance(value, bool)
        return None if whole and value > 0 else f"must be a byte count > 0, got {value!r}"
    if option == "max_connections":
        whole = isinstance(value, int) and not isinstance(value, bool)
        return None if whole and value > 0 else f"must be a connection count > 0, got {value!r}"
    import httpx

    wanted = httpx.Client if option == "http_client" else httpx.AsyncClient
    if not isinstance(value, wanted):
        return f"must be an {wanted.__module__}.{wanted.__name__}, got {type(value).__name__}"
    return None


def _url_problem(value: Any) -> str | None:
    from urllib.parse import urlsplit

    if not isinstance(value, str):
        return f"must be an http(s) URL, got {type(value).__name__}"
    try:
        parts = urlsplit(value)
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        return f"must be an http(s) URL with a host, got {value!r}"
    if any(ord(char) < 0x21 or ord(char) == 0x7F for char in value):
        return "must not contain spaces or control characters"
    return None


def _headers_problem(value: Any) -> str | None:
    if not isinstance(value, Mapping):
        return f"must be a mapping of header names to values, got {type(value).__name__}"
    bad: list[str] = []
    for name, header in value.items():
        if not isinstance(name, str) or not name or any(c in name for c in "\r\n:\0 "):
            bad.append(f"name {name!r} is not a header name")
        elif not isinstance(header, str):
            bad.append(f"{name!r} must be a str, got {type(header).__name__}")
        elif any(c in header for c in "\r\n\0"):
            bad.append(f"{name!r} has a CR, LF or NUL in its value")
    return "; ".join(bad) or None
