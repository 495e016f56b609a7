"""Vertex AI credentials: google-auth objects, and access tokens cached until they expire.

google-auth is imported only when a call needs it (the ``vertex`` extra). A token comes from the
credentials object itself (google-auth keeps ``token`` and ``expiry`` on it, so a valid token is
reused until it nears its expiry); a refresh is a blocking HTTP exchange with the token endpoint,
so the async driver runs it on a worker thread (``AccessToken.run_async``), never on the loop.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from ... import _secrets
from ...adapters.http import header_problem
from ...effects import Effect, Scope
from ...errors import AdapterError, EngineError

__all__ = ["SCOPES", "AccessToken", "DefaultCredentials", "cached_token", "fresh_token"]

SCOPES = ("https://www.googleapis.com/auth/cloud-platform",)
# Credentials objects are not thread-safe while they refresh: one refresh at a time.
_refresh_lock = threading.Lock()
_transport: list[Any] = []  # one google-auth Request (a pooled requests.Session), made on first use
# Attributes of google-auth credentials that hold secrets besides the access token.
_SECRET_ATTRIBUTES = ("token", "refresh_token", "client_secret", "_refresh_token", "_client_secret")


def _google_auth() -> Any:
    try:
        import google.auth
    except ImportError as exc:
        raise ImportError(
            "the Vertex adapter needs google-auth for credentials: pip install 'allm-py[vertex]'"
        ) from exc
    return google.auth


class DefaultCredentials:
    """``google.auth.default()``, asked once and kept (it reads files and environment variables,
    and on Google Cloud asks the metadata server)."""

    def __init__(self) -> None:
        self._found: tuple[Any, str | None] | None = None
        self._lock = threading.Lock()

    def get(self, provider: str) -> tuple[Any, str | None]:
        """``(credentials, project or None)``; ``EngineError("missing_key")`` when there are none."""
        if self._found is None:
            with self._lock:
                if self._found is None:
                    google_auth = _google_auth()
                    from google.auth.exceptions import DefaultCredentialsError

                    try:
                        credentials, project = google_auth.default(scopes=list(SCOPES))
                    except DefaultCredentialsError as exc:
                        raise EngineError(
                            "missing_key",
                            "no Google Cloud credentials: pass credentials= (a google-auth "
                            "credentials object), set GOOGLE_APPLICATION_CREDENTIALS, run "
                            "'gcloud auth application-default login', or give an express mode "
                            f"API key (api_key= or GOOGLE_API_KEY); google-auth said: {exc}",
                            provider=provider,
                        ) from None
                    self._found = (credentials, project if isinstance(project, str) else None)
        return self._found


def remember_secrets(credentials: Any) -> None:
    """Register every secret the credentials object holds, so no error or log can carry one."""
    for name in _SECRET_ATTRIBUTES:
        value = getattr(credentials, name, None)
        if isinstance(value, str) and value:
            _secrets.remember(value)


def cached_token(credentials: Any) -> str | None:
    """The credentials' access token while it is valid (not expired, not about to), else None."""
    token = getattr(credentials, "token", None)
    if isinstance(token, str) and token and getattr(credentials, "valid", False):
        _secrets.remember(token)
        return token
    return None


def _request() -> Any:
    if not _transport:
        from google.auth.transport.requests import Request

        _transport.append(Request())
    return _transport[0]


def fresh_token(credentials: Any, provider: str, request_id: str) -> str | AdapterError:
    """A valid access token, refreshing the credentials when theirs expired (blocking); a refresh
    that fails is an ``AdapterError`` (``authentication_failed`` or ``network_error``)."""
    token = cached_token(credentials)
    if token is None:
        remember_secrets(credentials)
        with _refresh_lock:
            token = cached_token(credentials)
            if token is None:
                failure = _refresh(credentials, provider, request_id)
                if failure is not None:
                    return failure
                token = getattr(credentials, "token", None)
    if not isinstance(token, str) or not token or header_problem(token) is not None:
        return AdapterError(
            "authentication_failed",
            "the Google credentials gave no access token that can be sent in a header",
            provider=provider,
            request_id=request_id,
        )
    _secrets.remember(token)
    return token


def _refresh(credentials: Any, provider: str, request_id: str) -> AdapterError | None:
    _google_auth()
    from google.auth import exceptions

    try:
        credentials.refresh(_request())
    except exceptions.RefreshError as exc:
        reason, what = "authentication_failed", "refused to refresh"
        cause: BaseException = exc
    except exceptions.TransportError as exc:
        reason, what = "network_error", "could not be reached to refresh"
        cause = exc
    else:
        remember_secrets(credentials)
        return None
    text = _secrets.scrub(f"{type(cause).__name__}: {cause}")
    return AdapterError(
        reason,
        f"the Google token endpoint {what} the access token: {text}",
        provider=provider,
        request_id=request_id,
        metadata={"stage": "token_refresh"},
    )


@dataclass(frozen=True, slots=True)
class AccessToken(Effect):
    """A valid access token for ``credentials``: a ``str``, or the ``AdapterError`` the refresh
    ended with. The async driver refreshes on a worker thread."""

    credentials: Any
    provider: str
    request_id: str

    def run_sync(self, scope: Scope) -> str | AdapterError:
        return fresh_token(self.credentials, self.provider, self.request_id)

    async def run_async(self, scope: Scope) -> str | AdapterError:
        token = cached_token(self.credentials)
        if token is not None:
            return token
        import anyio

        return await anyio.to_thread.run_sync(
            fresh_token, self.credentials, self.provider, self.request_id
        )
