"""Error kinds: closed reasons, per-reason subclasses, messages, value equality, pickle."""

from __future__ import annotations

import pickle

import pytest
from hypothesis import given
from tests.strategies import ERROR_KINDS, REASON_SUBCLASSES, error_values

import allm
from allm import errors
from allm.errors import (
    AdapterError,
    AdapterTimeoutError,
    AllmError,
    ConfigurationError,
    ContextLengthError,
    EngineError,
    ImageAdapterError,
    InvalidRequestError,
    NetworkError,
    RateLimitError,
    SessionError,
    SessionStateError,
    StreamError,
    ToolError,
    ValidationError,
)

# The reasons of ALLM_DESIGN.md section 10 (0.3.0), plus API.md's quota_exhausted.
DESIGN_REASONS = {
    EngineError: {
        "missing_adapter",
        "missing_stream_adapter",
        "missing_model",
        "missing_key",
        "unknown_tool",
        "invalid_engine",
        "unsupported_response_format",
        "no_image_adapter",
    },
    AdapterError: {
        "rate_limited",
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
        "quota_exhausted",
    },
    StreamError: {"adapter_error", "cancelled", "timeout", "malformed_event", "unknown"},
    ValidationError: {
        "invalid_request",
        "invalid_message",
        "invalid_tool",
        "invalid_thread",
        "invalid_session",
        "invalid_session_input",
        "unsupported_capability",
        "vision_not_in_v0_2",
        "invalid_image_request",
    },
    ToolError: {
        "handler_raised",
        "handler_exit",
        "timeout",
        "invalid_return",
        "not_found",
        "encoding_failed",
    },
    SessionError: {
        "session_in_error_state",
        "invalid_status_for_operation",
        "no_pending_tool_call",
        "unknown_tool_call_id",
    },
    ImageAdapterError: {
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
        "unknown",
    },
}

KIND_IDS = [kind.__name__ for kind in ERROR_KINDS]


# ------------------------------------------------------------------------------ closed reasons


@pytest.mark.parametrize("kind", list(DESIGN_REASONS), ids=lambda kind: kind.__name__)
def test_legal_reasons_cover_the_design(kind):
    assert DESIGN_REASONS[kind] <= kind.legal_reasons()
    assert kind.legal_reasons() == kind.reasons


@pytest.mark.parametrize("kind", ERROR_KINDS, ids=KIND_IDS)
def test_every_legal_reason_constructs(kind):
    for reason in kind.legal_reasons():
        error = kind(reason)
        assert error.reason == reason
        assert isinstance(error, kind)
        assert isinstance(error, AllmError)


@pytest.mark.parametrize("kind", ERROR_KINDS, ids=KIND_IDS)
def test_an_unlisted_reason_is_a_programmer_error(kind):
    with pytest.raises(ValueError, match="not_a_reason"):
        kind("not_a_reason")


def test_a_kind_without_a_reason_is_a_programmer_error():
    with pytest.raises(ValueError):
        AdapterError()
    with pytest.raises(ValueError):
        AllmError("anything")


def test_an_unknown_field_is_a_programmer_error():
    with pytest.raises(TypeError, match="tool_name"):
        AdapterError("timeout", tool_name="f")


# ---------------------------------------------------------------------- per-reason subclasses


@pytest.mark.parametrize(
    ("cls", "reason"), REASON_SUBCLASSES, ids=[cls.__name__ for cls, _ in REASON_SUBCLASSES]
)
def test_the_kind_constructor_picks_the_per_reason_subclass(cls, reason):
    kind = next(kind for kind in ERROR_KINDS if issubclass(cls, kind))

    via_kind = kind(reason)
    direct = cls()

    assert type(via_kind) is cls
    assert type(direct) is cls
    assert direct.reason == reason
    assert via_kind == direct


def test_rate_limited_is_a_rate_limit_error():
    error = AdapterError("rate_limited", provider="openai", status=429, retry_after_ms=2000)

    assert isinstance(error, RateLimitError)
    assert isinstance(error, AdapterError)
    assert error.retry_after_ms == 2000
    with pytest.raises(RateLimitError):
        raise error


@pytest.mark.parametrize(
    "error",
    [
        AdapterError("timeout"),
        StreamError("timeout"),
        ToolError("timeout", tool_name="slow"),
        ImageAdapterError("timeout"),
    ],
    ids=lambda error: type(error).__name__,
)
def test_timeouts_are_also_builtin_timeout_errors(error):
    assert isinstance(error, TimeoutError)
    assert str(error) == error.message
    with pytest.raises(TimeoutError):
        raise error


def test_adapter_timeout_is_the_adapter_timeout_subclass():
    assert type(AdapterError("timeout")) is AdapterTimeoutError
    assert not isinstance(AdapterError("rate_limited"), TimeoutError)


def test_network_error_is_a_connection_error():
    error = AdapterError("network_error", provider="anthropic")

    assert type(error) is NetworkError
    assert isinstance(error, ConnectionError)
    assert str(error) == "adapter error: network_error (anthropic)"


def test_context_length_is_an_invalid_request():
    error = AdapterError("context_length_exceeded")

    assert type(error) is ContextLengthError
    assert isinstance(error, InvalidRequestError)
    assert InvalidRequestError("context_length_exceeded") == error


def test_a_subclass_refuses_another_reason():
    with pytest.raises(ValueError):
        RateLimitError("timeout")
    with pytest.raises(ValueError):
        InvalidRequestError("rate_limited")


def test_validation_error_is_a_value_error():
    error = ValidationError("invalid_request", errors=[("messages", "empty")])

    assert isinstance(error, ValueError)
    with pytest.raises(ValueError):
        raise error


def test_session_state_error_is_a_session_error_and_a_value_error():
    error = SessionError("invalid_status_for_operation")

    assert type(error) is SessionStateError
    assert isinstance(error, SessionError)
    assert isinstance(error, ValueError)
    assert not isinstance(SessionError("unknown_tool_call_id"), ValueError)


def test_configuration_error_is_a_value_error():
    assert isinstance(ConfigurationError("invalid_option", problems=["x"]), ValueError)


def test_errors_are_exported_from_the_package():
    for kind in (AdapterError, EngineError, SessionStateError, ValidationError, AllmError):
        assert getattr(allm, kind.__name__) is kind


# ----------------------------------------------------------------------------------- messages


@pytest.mark.parametrize(
    ("error", "message"),
    [
        (EngineError("missing_adapter"), "engine error: missing_adapter"),
        (EngineError("missing_key", provider="openai"), "engine error: missing_key (openai)"),
        (AdapterError("rate_limited", provider="openai"), "adapter error: rate_limited (openai)"),
        (AdapterError("unknown"), "adapter error: unknown"),
        (StreamError("cancelled"), "stream error: cancelled"),
        (ToolError("handler_raised", tool_name="f"), "tool error: handler_raised (f)"),
        (SessionError("session_in_error_state"), "session error: session_in_error_state"),
        (ImageAdapterError("content_filter"), "image_adapter error: content_filter"),
        (ValidationError("invalid_tool"), "validation error: invalid_tool"),
        (
            ValidationError(
                "invalid_request",
                errors=[("messages", "empty"), (("tools", 1, "name"), "duplicate_name")],
            ),
            "validation error: invalid_request: messages: empty; tools[1].name: duplicate_name",
        ),
        (
            ConfigurationError("invalid_option", problems=["a", "b"]),
            "configuration error: invalid_option: a; b",
        ),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, AllmError) else "",
)
def test_default_messages(error, message):
    assert error.message == message
    assert str(error) == message


def test_an_explicit_message_wins():
    error = AdapterError("unknown", "the provider said no")

    assert error.message == "the provider said no"
    assert str(error) == "the provider said no"
    assert "the provider said no" in repr(error)


def test_fields_default_to_none_and_metadata_to_an_empty_dict():
    error = AdapterError("unknown")

    assert (error.provider, error.status, error.retry_after_ms, error.request_id) == (None,) * 4
    assert error.metadata == {}
    assert error.cause is None
    assert ToolError("not_found").tool_call_id is None
    assert StreamError("unknown").event_index is None


def test_validation_error_paths_are_tuples():
    error = ValidationError(
        "invalid_request", errors=[("messages", "empty"), (["tools", 0, "name"], "empty")]
    )

    assert error.errors == ((("messages",), "empty"), (("tools", 0, "name"), "empty"))


# ------------------------------------------------------------------------ equality and hashing


def test_errors_compare_by_value():
    one = AdapterError("rate_limited", provider="openai", status=429, metadata={"body": "x"})
    same = AdapterError("rate_limited", provider="openai", status=429, metadata={"body": "x"})

    assert one == same
    assert one is not same
    assert hash(one) == hash(same)
    assert len({one, same}) == 1
    assert one != AdapterError("rate_limited", provider="openai", status=503)
    assert one != AdapterError("rate_limited", provider="openai", status=429, metadata={})
    assert AdapterError("unknown") != StreamError("unknown")
    assert AdapterError("unknown") != "adapter error: unknown"


def test_causes_compare_by_type_and_args():
    first = ToolError("handler_raised", cause=RuntimeError("boom"))
    second = ToolError("handler_raised", cause=RuntimeError("boom"))

    assert first == second
    assert first != ToolError("handler_raised", cause=RuntimeError("other"))
    assert first != ToolError("handler_raised", cause=KeyError("boom"))


# -------------------------------------------------------------------------------------- pickle


@pytest.mark.parametrize("kind", ERROR_KINDS, ids=KIND_IDS)
def test_every_kind_and_reason_pickles(kind):
    for reason in sorted(kind.legal_reasons()):
        error = kind(reason, metadata={"k": [1, (2, b"3")]}, cause=EngineError("missing_key"))
        restored = pickle.loads(pickle.dumps(error))
        assert restored == error
        assert type(restored) is type(error)
        assert str(restored) == str(error)


def test_pickle_keeps_an_explicit_message_and_the_kind_fields():
    error = AdapterError(
        "quota_exhausted", "out of credit", provider="openai", status=429, request_id="r1"
    )
    restored = pickle.loads(pickle.dumps(error))

    assert restored.message == "out of credit"
    assert (restored.provider, restored.status, restored.request_id) == ("openai", 429, "r1")


@given(error_values)
def test_generated_errors_pickle_and_hash_consistently(error):
    restored = pickle.loads(pickle.dumps(error))

    assert restored == error
    assert hash(restored) == hash(error)
    assert type(restored) is type(error)
    assert restored.reason in type(error).legal_reasons()


def test_every_exported_error_class_is_an_allm_error():
    for name in errors.__all__:
        assert issubclass(getattr(errors, name), AllmError)
