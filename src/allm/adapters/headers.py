"""HTTP header checks shared by every transport: which names carry secrets, and which names and
values can be sent (a bad one is a ``ConfigurationError`` before any I/O, naming the header,
never its value)."""

from __future__ import annotations

import functools
import re

from .. import _secrets
from ..errors import ConfigurationError

__all__ = ["SECRET_HEADERS", "check_headers", "header_problem", "is_secret_header"]

# Headers whose values are secrets; so is any header whose name mentions a key, token, secret,
# password, cookie or auth (``x-my-api-key``, ``proxy-authorization``, ...).
SECRET_HEADERS = frozenset({"authorization", "x-api-key", "x-goog-api-key", "api-key"})
_SECRET_NAME = re.compile(r"key|token|secret|passw|cookie|auth", re.IGNORECASE)
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_FIELD_VALUE = re.compile(r"(?:[\x21-\x7e]+(?:[ \t]+[\x21-\x7e]+)*)?")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def is_secret_header(name: str) -> bool:
    """Whether a header's value is a secret (never shown, scrubbed from every error)."""
    return _name_facts(name)[1]


@functools.lru_cache(maxsize=512)
def _name_facts(name: str) -> tuple[bool, bool]:
    """Whether a header name is a valid token, and whether its value is a secret (the same few
    names come with every request: each is judged once)."""
    lowered = name.lower()
    secret = lowered in SECRET_HEADERS or _SECRET_NAME.search(lowered) is not None
    return _TOKEN.fullmatch(name) is not None, secret


def header_problem(value: str) -> str | None:
    """Why ``value`` cannot be sent as an HTTP header value, or None. Says what is wrong,
    never what the value is."""
    if _FIELD_VALUE.fullmatch(value):
        return None
    if "\r" in value or "\n" in value:
        return "it contains a line break (CR or LF)"
    if _CONTROL.search(value):
        return "it contains a control character"
    if not value.isascii():
        return "it contains a non-ASCII character"
    return "it has leading or trailing whitespace"


def check_headers(headers: tuple[tuple[str, str], ...]) -> None:
    """Raise ``ConfigurationError("invalid_header")`` naming every header that cannot be sent
    (never its value); remember the values of secret headers as secrets."""
    problems = []
    for name, value in headers:
        valid, secret = _name_facts(name) if isinstance(name, str) else (False, False)
        if not valid:
            problems.append(f"{name!r} is not a valid HTTP header name")
            continue
        if not isinstance(value, str):
            problems.append(f"header {name!r}: its value must be a str, got {type(value).__name__}")
            continue
        if secret:
            _secrets.remember(value)
        if not _FIELD_VALUE.fullmatch(value):
            problems.append(f"header {name!r} cannot be sent: {header_problem(value)}")
    if problems:
        raise ConfigurationError("invalid_header", problems=problems)
