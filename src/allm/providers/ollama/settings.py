"""Where Ollama listens: ``OLLAMA_HOST`` as Ollama's own CLI reads it (a bare host, a host and
port, or a URL), else ``http://localhost:11434``."""

from __future__ import annotations

from urllib.parse import urlsplit

from ...errors import ConfigurationError

DEFAULT_HOST = "http://localhost:11434"
_DEFAULT_PORT = 11434


def host_url(value: str) -> str:
    """``value`` as a base URL: ``http://`` when no scheme is given, port 11434 when a plain
    ``http`` host names none (``https`` keeps its own default), no trailing slash."""
    text = value.strip().rstrip("/")
    if not text:
        return DEFAULT_HOST
    if "://" not in text:
        text = "http://" + text
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigurationError(
            "invalid_option", problems=[f"OLLAMA_HOST is not a host or URL: {value!r}"]
        )
    try:
        port = parts.port
    except ValueError:
        raise ConfigurationError(
            "invalid_option", problems=[f"OLLAMA_HOST has an invalid port: {value!r}"]
        ) from None
    netloc = parts.netloc
    if port is None and parts.scheme == "http":
        netloc = f"{netloc}:{_DEFAULT_PORT}"
    return f"{parts.scheme}://{netloc}{parts.path}".rstrip("/")
