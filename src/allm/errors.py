"""Every error allm raises on purpose, and every error it folds into a result as data.

Each kind has a closed set of ``reason`` strings. Constructing an error with a reason outside its
kind's set is a programmer error (``ValueError``). Where one reason deserves its own ``except``
clause there is a subclass, and the kind's constructor picks it for you::

    AdapterError("rate_limited")  ->  RateLimitError(reason="rate_limited")

The tree of kinds and reasons is drawn in ``docs/design/errors.md``.

Errors are plain data: they compare by value, pickle, and round-trip through ``allm.to_json``.
They never hold transport objects or keys.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from . import _secrets

__all__ = [
    "AdapterError",
    "AdapterTimeoutError",
    "AllmError",
    "AuthenticationError",
    "ConfigurationError",
    "ConflictError",
    "ContentFilterError",
    "ContextLengthError",
    "CorruptSessionError",
    "EngineError",
    "ImageAdapterError",
    "ImageTimeoutError",
    "InvalidRequestError",
    "MalformedResponseError",
    "NetworkError",
    "NoScriptedResponseError",
    "NonStopFinishError",
    "OutputValidationError",
    "ProviderUnavailableError",
    "QuotaExhaustedError",
    "RateLimitError",
    "SchemaVersionError",
    "SessionError",
    "SessionNotFoundError",
    "SessionStateError",
    "StoreError",
    "StreamError",
    "StreamTimeoutError",
    "ToolError",
    "ToolTimeoutError",
    "UnsupportedFeatureError",
    "ValidationError",
]

Path = tuple[str | int, ...]
FieldError = tuple[Path, str]


def _cause_key(cause: object) -> object:
    # Exceptions compare by identity; two runs that fail the same way should still compare equal.
    if isinstance(cause, AllmError):
        return cause
    if isinstance(cause, BaseException):
        return (type(cause), cause.args)
    return cause


def _rebuild(cls: type[AllmError], state: dict[str, Any]) -> AllmError:
    return cls(**state)


class AllmError(Exception):
    """Base of every allm error: a closed ``reason``, a ``message``, ``metadata`` and a ``cause``."""

    kind: ClassVar[str] = "allm"
    reasons: ClassVar[frozenset[str]] = frozenset()
    extra_fields: ClassVar[tuple[str, ...]] = ()
    default_reason: ClassVar[str | None] = None
    _subclass_for_reason: ClassVar[dict[str, type[AllmError]]] = {}

    reason: str
    message: str
    metadata: dict[str, Any]
    cause: Any

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "reasons" in cls.__dict__:
            # A new kind: its own table of per-reason subclasses.
            cls._subclass_for_reason = {}
        if "default_reason" in cls.__dict__ and cls.default_reason is not None:
            cls._subclass_for_reason[cls.default_reason] = cls

    def __new__(cls, reason: str | None = None, *args: Any, **kwargs: Any) -> AllmError:
        if reason is not None:
            special = cls._subclass_for_reason.get(reason)
            if special is not None and issubclass(special, cls):
                cls = special
        return super().__new__(cls)

    def __init__(
        self,
        reason: str | None = None,
        message: str | None = None,
        *,
        metadata: Mapping[str, Any] | None = None,
        cause: Any = None,
        **fields: Any,
    ) -> None:
        reason = reason if reason is not None else self.default_reason
        if reason is None or reason not in self.reasons:
            raise ValueError(
                f"{type(self).__name__}: reason {reason!r} is not one of {sorted(self.reasons)}"
            )
        if self.default_reason is not None and reason != self.default_reason:
            raise ValueError(
                f"{type(self).__name__} always has reason {self.default_reason!r}, not {reason!r}"
            )
        unknown = set(fields) - set(self.extra_fields)
        if unknown:
            raise TypeError(f"{type(self).__name__}: unknown field(s) {sorted(unknown)}")
        self.reason = reason
        # Scrubbed at birth: whoever raised it, an error never carries a key (see allm._secrets).
        scrub = _secrets.scrub_value
        self.metadata = scrub(dict(metadata)) if metadata else {}
        self.cause = cause if isinstance(cause, AllmError) else scrub(cause)
        for name in self.extra_fields:
            setattr(self, name, scrub(self._coerce_field(name, fields.get(name))))
        self.message = scrub(message if message is not None else self._default_message())
        super().__init__(self.message)
        # OSError subclasses (TimeoutError, ConnectionError) take their args from __new__, which
        # we override; set them here so str(error) is the message for every kind.
        self.args = (self.message,)

    @classmethod
    def legal_reasons(cls) -> frozenset[str]:
        """The closed set of reasons this kind accepts."""
        return cls.reasons

    def _coerce_field(self, name: str, value: Any) -> Any:
        return value

    def _default_message(self) -> str:
        qualifier = ""
        provider = getattr(self, "provider", None)
        tool_name = getattr(self, "tool_name", None)
        if provider:
            qualifier = f" ({provider})"
        elif tool_name:
            qualifier = f" ({tool_name})"
        return f"{self.kind} error: {self.reason}{qualifier}"

    def to_state(self) -> dict[str, Any]:
        """Every field, as keyword arguments that rebuild an equal error."""
        state: dict[str, Any] = {
            "reason": self.reason,
            "message": self.message,
            "metadata": self.metadata,
            "cause": self.cause,
        }
        for name in self.extra_fields:
            state[name] = getattr(self, name)
        return state

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), self.to_state()))

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, AllmError)
        mine, theirs = self.to_state(), other.to_state()
        mine["cause"], theirs["cause"] = _cause_key(self.cause), _cause_key(other.cause)
        return mine == theirs

    def __hash__(self) -> int:
        return hash((type(self), self.reason, self.message))

    def __repr__(self) -> str:
        shown = [f"reason={self.reason!r}"]
        for name in self.extra_fields:
            value = getattr(self, name)
            if value not in (None, (), []):
                shown.append(f"{name}={value!r}")
        if self.message != self._default_message():
            shown.append(f"message={self.message!r}")
        return f"{type(self).__name__}({', '.join(shown)})"


class EngineError(AllmError):
    """The engine cannot serve the call: no adapter, no key, an unknown tool, ..."""

    kind = "engine"
    reasons = frozenset(
        {
            "missing_adapter",
            "missing_stream_adapter",
            "missing_model",
            "missing_key",
            "unknown_tool",
            "invalid_engine",
            "unsupported_response_format",
            "no_image_adapter",
            "no_embedding_adapter",
            "no_moderation_adapter",
            "no_speech_adapter",
            "no_transcription_adapter",
        }
    )
    extra_fields = ("provider",)
    provider: str | None


class AdapterError(AllmError):
    """A provider call failed: an HTTP error, a broken stream, a refusal to serve."""

    kind = "adapter"
    reasons = frozenset(
        {
            "rate_limited",
            "quota_exhausted",
            "authentication_failed",
            "invalid_request",
            "provider_unavailable",
            "context_length_exceeded",
            "content_filter",
            "timeout",
            "network_error",
            "malformed_response",
            "unsupported_feature",
            "no_scripted_response",
            "unknown",
        }
    )
    extra_fields = ("provider", "status", "retry_after_ms", "request_id")
    provider: str | None
    status: int | None
    retry_after_ms: int | None
    request_id: str | None


class AuthenticationError(AdapterError):
    """The provider rejected the key (HTTP 401/403)."""

    default_reason = "authentication_failed"


class RateLimitError(AdapterError):
    """Too many requests (HTTP 429); ``retry_after_ms`` says when to come back, if known."""

    default_reason = "rate_limited"


class QuotaExhaustedError(AdapterError):
    """The account is out of credit or quota; waiting does not help, so it is never retried."""

    default_reason = "quota_exhausted"


class InvalidRequestError(AdapterError):
    """The provider rejected the request as malformed (HTTP 400/404/422)."""

    default_reason = "invalid_request"


class ContextLengthError(InvalidRequestError):
    """The prompt does not fit the model's context window."""

    # Shares InvalidRequestError's table: registered under its own reason.
    default_reason = "context_length_exceeded"


class ContentFilterError(AdapterError):
    """The provider's safety system stopped the request."""

    default_reason = "content_filter"


class UnsupportedFeatureError(AdapterError):
    """The provider cannot do what the request asks (an image URL on Gemini, ...)."""

    default_reason = "unsupported_feature"


class ProviderUnavailableError(AdapterError):
    """The provider is down or overloaded (HTTP 5xx, Anthropic 529)."""

    default_reason = "provider_unavailable"


class MalformedResponseError(AdapterError):
    """The provider's answer could not be decoded (bad JSON, a stream cut before its end, ...)."""

    default_reason = "malformed_response"


class NetworkError(AdapterError, ConnectionError):
    """No usable HTTP exchange: connection refused, reset, DNS failure."""

    default_reason = "network_error"


class AdapterTimeoutError(AdapterError, TimeoutError):
    """The provider did not answer in time."""

    default_reason = "timeout"


class NoScriptedResponseError(AdapterError):
    """The Fake provider was called more often than its script allows."""

    default_reason = "no_scripted_response"


class StreamError(AllmError):
    """The event stream failed independently of the provider's answer."""

    kind = "stream"
    reasons = frozenset({"adapter_error", "cancelled", "timeout", "malformed_event", "unknown"})
    extra_fields = ("provider", "event_index")
    provider: str | None
    event_index: int | None


class StreamTimeoutError(StreamError, TimeoutError):
    """The stream went silent for longer than allowed."""

    default_reason = "timeout"


def _format_path(path: Sequence[str | int]) -> str:
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text or "<root>"


class ValidationError(AllmError, ValueError):
    """Bad input, found before any I/O. ``errors`` lists every problem as ``(path, reason)``."""

    kind = "validation"
    reasons = frozenset(
        {
            "invalid_request",
            "invalid_message",
            "invalid_tool",
            "invalid_thread",
            "invalid_session",
            "invalid_session_input",
            "unsupported_capability",
            "vision_not_in_v0_2",
            "invalid_image_request",
            "invalid_output",
            "invalid_speech_request",
            "invalid_transcription_request",
        }
    )
    extra_fields: ClassVar[tuple[str, ...]] = ("errors",)
    errors: tuple[FieldError, ...]

    def _coerce_field(self, name: str, value: Any) -> Any:
        # Paths may be given as a string, a list or a tuple; they are kept as tuples.
        entries = []
        for path, reason in value or ():
            path_tuple = (path,) if isinstance(path, str | int) else tuple(path)
            entries.append((path_tuple, str(reason)))
        return tuple(entries)

    def _default_message(self) -> str:
        if not self.errors:
            return f"validation error: {self.reason}"
        listed = "; ".join(f"{_format_path(path)}: {reason}" for path, reason in self.errors)
        return f"validation error: {self.reason}: {listed}"


class OutputValidationError(ValidationError):
    """The model's answer did not validate against the requested output type, on every attempt.

    ``raw_text`` is the last attempt's text; ``errors`` lists every problem with its path inside
    the answer. It is data on a result (``Response.error``); ``allm.unwrap`` raises it.
    """

    default_reason = "invalid_output"
    extra_fields = ("errors", "raw_text")
    raw_text: str | None

    def _coerce_field(self, name: str, value: Any) -> Any:
        if name == "raw_text":
            return None if value is None else str(value)
        return super()._coerce_field(name, value)


class ToolError(AllmError):
    """A tool call produced no usable result."""

    kind = "tool"
    reasons = frozenset(
        {
            "handler_raised",
            "handler_exit",
            "timeout",
            "invalid_return",
            "invalid_arguments",
            "not_found",
            "encoding_failed",
            "mcp_unavailable",
        }
    )
    extra_fields = ("tool_name", "tool_call_id")
    tool_name: str | None
    tool_call_id: str | None


class ToolTimeoutError(ToolError, TimeoutError):
    """A tool handler ran longer than ``tool_timeout``."""

    default_reason = "timeout"


class SessionError(AllmError):
    """A session operation failed on the session's data, or a session store could not serve it.

    The session concerned, when known, is named in the message and in ``metadata["session_id"]``
    (also readable as ``error.session_id``).
    """

    kind = "session"
    reasons = frozenset(
        {
            "session_in_error_state",
            "invalid_status_for_operation",
            "no_pending_tool_call",
            "unknown_tool_call_id",
            # session stores (allm.stores)
            "version_conflict",
            "session_not_found",
            "corrupt_session",
            "unsupported_schema_version",
            "store_unavailable",
        }
    )
    extra_fields = ("provider",)
    provider: str | None

    @property
    def session_id(self) -> str | None:
        """The id of the session concerned, when known."""
        value = self.metadata.get("session_id")
        return value if isinstance(value, str) else None


class SessionStateError(SessionError, ValueError):
    """The operation is illegal in the session's current status (a programmer error)."""

    default_reason = "invalid_status_for_operation"


class ConflictError(SessionError):
    """Saving would overwrite a newer stored version (optimistic concurrency); nothing was written.

    ``metadata`` holds ``session_id``, ``expected_version`` (the version the caller loaded, ``None``
    for a new session) and ``stored_version`` (``None`` when the session was deleted meanwhile).
    """

    default_reason = "version_conflict"


class SessionNotFoundError(SessionError, LookupError):
    """No stored session has this id."""

    default_reason = "session_not_found"


class CorruptSessionError(SessionError):
    """A stored session cannot be read back: malformed data, or a session whose status and pending
    fields disagree. ``metadata["errors"]`` lists the problems when there are several."""

    default_reason = "corrupt_session"


class SchemaVersionError(CorruptSessionError):
    """A stored session was written with a schema version this allm does not know (a newer one)."""

    default_reason = "unsupported_schema_version"


class StoreError(SessionError):
    """The session store's database could not serve the operation: it is down, unreachable, or
    refused it (read-only, locked, out of space). ``cause`` is the driver's error; neither it nor
    the message holds a password. Nothing stored before is lost: retry once the database is back.

    ``metadata`` holds ``operation`` (``save``, ``load``, ``delete``, ``list``), ``store`` (the
    store's class name) and ``session_id`` when one was concerned.
    """

    default_reason = "store_unavailable"


class ImageAdapterError(AllmError):
    """An image provider call failed."""

    kind = "image_adapter"
    reasons = frozenset(
        {
            "authentication_failed",
            "rate_limited",
            "invalid_request",
            "content_filter",
            "context_length_exceeded",
            "provider_unavailable",
            "timeout",
            "network_error",
            "malformed_response",
            "unsupported_feature",
            "unsupported_operation",
            "quota_exhausted",
            "unknown",
        }
    )
    extra_fields = ("provider", "status", "retry_after_ms")
    provider: str | None
    status: int | None
    retry_after_ms: int | None


class ImageTimeoutError(ImageAdapterError, TimeoutError):
    """The image provider did not answer in time."""

    default_reason = "timeout"


class ConfigurationError(AllmError, ValueError):
    """A programmer error: an option, script or policy that can never work. Lists every problem."""

    kind = "configuration"
    reasons = frozenset(
        {
            "invalid_option",
            "unknown_option",
            "invalid_script",
            "invalid_retry_policy",
            "invalid_adapter",
            "invalid_tool",
            "invalid_catalog",
            "invalid_key",
            "invalid_header",
            "async_handler_in_sync_api",
        }
    )
    extra_fields = ("problems",)
    problems: tuple[str, ...]

    def _coerce_field(self, name: str, value: Any) -> Any:
        return tuple(value or ())

    def _default_message(self) -> str:
        if not self.problems:
            return f"configuration error: {self.reason}"
        return f"configuration error: {self.reason}: " + "; ".join(self.problems)


class NonStopFinishError(AllmError):
    """``allm.unwrap`` found no plain answer: the response did not finish with ``stop``."""

    kind = "unwrap"
    reasons = frozenset({"non_stop_finish", "empty_stop_response", "structured_content"})
    extra_fields = ("finish_reason",)
    finish_reason: str | None

    def _default_message(self) -> str:
        if self.reason == "non_stop_finish":
            return f"response finished with {self.finish_reason!s}, not stop"
        return f"unwrap error: {self.reason}"
