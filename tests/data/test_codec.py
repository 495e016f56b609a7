"""The tagged JSON envelope and pickle: FEATURES 93-95, example-based and property-based."""

from __future__ import annotations

import base64
import dataclasses
import json
import pickle

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.strategies import (
    DATA_STRATEGIES,
    ERROR_KINDS,
    EVENT_STRATEGIES,
    REASON_SUBCLASSES,
    error_values,
    json_values,
    layer_a_values,
)

import allm
from allm import codec, events
from allm.data import (
    FinishReason,
    Image,
    ImagePart,
    Message,
    Response,
    Role,
    Session,
    Thread,
    Tool,
    ToolCall,
    Usage,
)
from allm.engine import Engine
from allm.errors import AllmError, RateLimitError, ValidationError
from allm.retry import RetryPolicy

# Every Layer A type by name: data types, the 18 events, and errors (all kinds and subclasses).
ALL_STRATEGIES = {
    **DATA_STRATEGIES,
    **{cls.__name__: strategy for cls, strategy in EVENT_STRATEGIES.items()},
    "errors": error_values,
}
TYPE_NAMES = sorted(ALL_STRATEGIES)

ATOM_DECODE_FAILED = ((("_unknown",), "atom_decode_failed"),)


def decode_error(text: str, as_: type | None = None) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        allm.from_json(text, as_)
    assert caught.value.reason == "invalid_request"
    return caught.value


def envelope(value: object) -> dict:
    return json.loads(allm.to_json(value))


# ------------------------------------------------------------------------- the envelope (F93)


def test_f093_a_message_is_a_tagged_envelope_with_every_field_and_nulls():
    assert envelope(allm.user("hi")) == {
        "__type__": "Message",
        "v": 1,
        "data": {
            "role": "user",
            "content": "hi",
            "name": None,
            "tool_call_id": None,
            "tool_calls": [],
            "metadata": {},
        },
    }


def test_f093_nested_values_are_tagged_and_only_the_top_carries_the_version():
    call = ToolCall("c1", "lookup", {"q": "x"}, '{"q":"x"}')
    thread = Thread((Message("assistant", "", tool_calls=(call,)),))

    data = envelope(thread)
    message = data["data"]["messages"][0]

    assert data["v"] == 1
    assert message["__type__"] == "Message"
    assert "v" not in message
    assert message["data"]["tool_calls"] == [
        {
            "__type__": "ToolCall",
            "data": {
                "id": "c1",
                "name": "lookup",
                "arguments": {"q": "x"},
                "raw_arguments": '{"q":"x"}',
                "metadata": {},
            },
        }
    ]


def test_f093_free_form_tuples_bytes_and_type_keys_are_tagged():
    response = Response(raw=(1, "a"), metadata={"blob": b"\x00\xff", "d": {"__type__": "x"}})

    data = envelope(response)["data"]

    assert data["raw"] == {"__type__": "tuple", "data": [1, "a"]}
    assert data["metadata"]["blob"] == {"__type__": "bytes", "data": "AP8="}
    assert data["metadata"]["d"] == {"__type__": "dict", "data": {"__type__": "x"}}
    assert allm.from_json(allm.to_json(response)) == response


def test_f093_enums_are_their_strings():
    data = envelope(Response(finish_reason=FinishReason.TOOL_CALLS))["data"]

    assert data["finish_reason"] == "tool_calls"
    assert envelope(Session(status="awaiting_tools"))["data"]["status"] == "awaiting_tools"


def test_f093_an_error_in_metadata_round_trips_as_its_subclass():
    error = RateLimitError(provider="openai", status=429, retry_after_ms=1500)
    response = Response(finish_reason="error", metadata={"error": error})

    restored = allm.from_json(allm.to_json(response))

    assert restored == response
    assert type(restored.error) is RateLimitError
    assert restored.error.retry_after_ms == 1500
    assert envelope(error)["__type__"] == "AdapterError"


@pytest.mark.parametrize(
    ("cls", "reason"), REASON_SUBCLASSES, ids=[cls.__name__ for cls, _ in REASON_SUBCLASSES]
)
def test_f093_every_per_reason_subclass_round_trips(cls, reason):
    error = cls(metadata={"attempt": 2})

    restored = allm.from_json(allm.to_json(error))

    assert type(restored) is cls
    assert restored == error
    assert restored.reason == reason


@pytest.mark.parametrize("kind", ERROR_KINDS, ids=lambda kind: kind.__name__)
def test_f093_every_error_kind_lists_its_fields(kind):
    error = kind(sorted(kind.legal_reasons())[0])

    data = envelope(error)

    assert data["__type__"] == kind.__name__
    assert set(data["data"]) == {"reason", "message", "metadata", "cause", *kind.extra_fields}
    assert allm.from_json(allm.to_json(error)) == error


def test_f093_an_engine_round_trips_without_keys():
    tool = Tool("lookup", "Look up", {"type": "object"}, handler=json.dumps)
    engine = Engine(
        adapter="fake",
        adapter_opts={"script": [("text", "hi"), ("finish", "stop")]},
        model="fake:model",
        tools=(tool,),
        params={"temperature": 0.2},
        retry={"max_attempts": 2},
    )

    text = allm.to_json(engine)
    restored = allm.from_json(text)

    assert restored == engine
    assert restored.tools[0].handler is json.dumps
    assert restored.adapter_opts["script"] == [("text", "hi"), ("finish", "stop")]
    assert "api_key" not in text
    assert pickle.loads(pickle.dumps(engine)) == engine


def test_f093_a_retry_policy_round_trips():
    policy = RetryPolicy(max_attempts=5, retry_on=(429, "timeout"))

    assert allm.from_json(allm.to_json(policy)) == policy
    assert allm.from_json(allm.to_json(Engine(retry=policy))).retry == policy


def test_f093_a_tool_handler_is_stored_by_import_path():
    tool = Tool("dump", "Dump JSON", {}, handler=json.dumps)

    assert envelope(tool)["data"]["handler"] == "json:dumps"
    assert allm.from_json(allm.to_json(tool)).handler is json.dumps


def test_f093_a_tool_with_a_lambda_handler_cannot_be_json_encoded():
    tool = Tool("anon", "Anonymous", {}, handler=lambda arguments: arguments)

    with pytest.raises(TypeError, match="module-level"):
        allm.to_json(tool)


@pytest.mark.parametrize("value", [object(), {1j: "complex key"}, float("nan"), float("inf")])
def test_f093_non_serialisable_values_refuse_to_encode(value):
    with pytest.raises((TypeError, ValueError)):
        allm.to_json(Message("user", "x", metadata={"bad": value}))


def test_f093_bytes_input_is_accepted():
    text = allm.to_json(allm.user("héllo"))

    assert allm.from_json(text.encode("utf-8")) == allm.user("héllo")


# --------------------------------------------------------------------- strict decoding (F94)


def _replace_field(value: object, path: list, new: object) -> str:
    data = envelope(value)
    target = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = new
    return json.dumps(data)


@pytest.mark.parametrize(
    ("value", "path", "bad"),
    [
        (allm.user("hi"), ["data", "role"], "robot"),
        (Response(finish_reason="stop"), ["data", "finish_reason"], "exploded"),
        (Session(), ["data", "status"], "sleeping"),
        (allm.AdapterError("rate_limited"), ["data", "reason"], "on_fire"),
        (Thread((allm.user("hi"),)), ["data", "messages", 0, "data", "role"], "robot"),
        (
            events.MessageCompleted(allm.assistant("x"), "stop"),
            ["data", "finish_reason"],
            "exploded",
        ),
        (
            Response(metadata={"error": allm.EngineError("missing_key")}),
            ["data", "metadata", "error", "data", "reason"],
            "on_fire",
        ),
    ],
    ids=["role", "finish_reason", "status", "error_reason", "nested_role", "event", "nested_error"],
)
def test_f094_unknown_enum_values_fail_with_atom_decode_failed(value, path, bad):
    error = decode_error(_replace_field(value, path, bad))

    assert error.errors == ATOM_DECODE_FAILED


def test_f094_untagged_json_needs_a_type_hint():
    error = decode_error('{"role": "user", "content": "hi"}')

    assert error.errors == ((("format",), "missing_type_tag"),)


def test_f094_untagged_json_decodes_with_as_():
    message = allm.from_json('{"role": "user", "content": "hi"}', as_=Message)

    assert message == allm.user("hi")
    assert message.role is Role.USER


def test_f094_as_must_match_a_tagged_value():
    error = decode_error(allm.to_json(allm.user("hi")), as_=Response)

    assert error.errors == ((("format",), "unexpected_type"),)


def test_f094_a_tagged_value_decodes_with_a_matching_as_():
    assert allm.from_json(allm.to_json(allm.user("hi")), as_=Message) == allm.user("hi")


@pytest.mark.parametrize("text", ["{", "", "not json", '{"__type__": "Message",}'])
def test_f094_malformed_json_is_reported(text):
    assert decode_error(text).errors == ((("json",), "malformed"),)


def test_f094_an_unknown_top_level_tag_fails():
    error = decode_error('{"__type__": "FutureThing", "data": {}}')

    assert error.errors == ((("format",), "unknown_type_tag"),)


def test_f094_an_unknown_nested_tag_is_left_as_the_raw_envelope():
    future = {"__type__": "FutureThing", "data": {"x": [1, 2]}}
    text = _replace_field(allm.user("hi"), ["data", "metadata"], {"extra": future})

    message = allm.from_json(text)

    assert message.metadata == {"extra": future}
    assert message.content == "hi"


def test_f094_an_envelope_without_data_fails():
    error = decode_error('{"__type__": "Message"}')

    assert error.errors == ((("data",), "missing"),)


def test_f094_an_unknown_field_fails_as_a_malformed_struct():
    text = _replace_field(Usage(), ["data", "surprise"], 1)

    assert decode_error(text).errors == ((("data",), "malformed_struct"),)


def test_f094_a_newer_schema_version_fails():
    text = _replace_field(Usage(), ["v"], 2)

    assert decode_error(text).errors == ((("v",), "unsupported_version"),)


def test_f094_decode_errors_are_value_errors():
    with pytest.raises(ValueError):
        allm.from_json("{}")


# ------------------------------------------------------------------------ image sources (F95)

PNG = b"\x89PNG\r\n\x1a\n\x00\xff"


def test_f095_a_bytes_source_is_written_as_base64():
    source = envelope(Image.from_bytes(PNG, "image/png"))["data"]["source"]

    assert source == {
        "__type__": "ImageSource",
        "data": {"type": "binary", "value": base64.b64encode(PNG).decode("ascii")},
    }


def test_f095_a_bytes_source_round_trips_to_bytes():
    part = ImagePart.from_bytes(PNG, "image/png", detail="high")

    restored = allm.from_json(allm.to_json(part))

    assert restored == part
    assert restored.image.source.value == PNG
    assert restored.image.to_bytes() == PNG


@pytest.mark.parametrize("bad", ["***", "abc", 42])
def test_f095_invalid_base64_in_a_binary_source_fails(bad):
    image = Image.from_bytes(PNG, "image/png")
    text = _replace_field(image, ["data", "source", "data", "value"], bad)

    assert decode_error(text).errors == ((("source",), "invalid_base64"),)


def test_f095_other_sources_keep_their_text():
    for image in (
        Image.from_url("https://example.com/a.png"),
        Image.from_file("/tmp/a.png"),
        Image.from_base64("AAAA", "image/gif"),
    ):
        data = envelope(image)["data"]["source"]["data"]
        assert data == {"type": image.source.type, "value": image.source.value}
        assert allm.from_json(allm.to_json(image)) == image


# ------------------------------------------------------------------------------- properties


# Fewer examples per type than the profile's default: there are 39 types, and the mixed-type
# properties below draw from all of them again.
@pytest.mark.parametrize("name", TYPE_NAMES)
@settings(max_examples=60)
@given(data=st.data())
def test_f093_every_layer_a_type_round_trips_through_json(name, data):
    value = data.draw(ALL_STRATEGIES[name], label=name)

    text = allm.to_json(value)
    restored = allm.from_json(text)

    assert restored == value
    assert type(restored) is type(value)
    assert json.loads(text)["v"] == codec.SCHEMA_VERSION


@pytest.mark.parametrize("name", TYPE_NAMES)
@settings(max_examples=30)
@given(data=st.data())
def test_f093_every_layer_a_type_round_trips_through_pickle(name, data):
    value = data.draw(ALL_STRATEGIES[name], label=name)

    restored = pickle.loads(pickle.dumps(value))

    assert restored == value
    assert type(restored) is type(value)


@given(layer_a_values)
def test_f093_to_json_is_json_text_and_decode_inverts_encode(value):
    text = allm.to_json(value)
    encoded = codec.encode(value)

    assert json.loads(text) == encoded
    assert codec.decode(encoded) == value
    assert codec.decode(json.loads(text)) == value


@given(layer_a_values)
def test_f093_every_envelope_lists_every_field(value):
    data = envelope(value)

    if isinstance(value, AllmError):
        expected = set(value.to_state())
    else:
        expected = {f.name for f in dataclasses.fields(value)}
    assert set(data["data"]) == expected


@given(json_values)
def test_f093_free_form_values_survive_inside_metadata(value):
    message = Message("user", "x", metadata={"value": value})

    assert allm.from_json(allm.to_json(message)).metadata["value"] == value
