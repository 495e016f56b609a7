"""Accumulating validators: FEATURES 96-98 and the session status invariants."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.strategies import tool_names

import allm
from allm import validate
from allm.data import ImageRequest, Message, Request, Session, Thread, Tool, ToolCall
from allm.data.images import Image
from allm.errors import ValidationError

OK_MESSAGES = (allm.user("hi"),)


def make_tool(name: str) -> Tool:
    return Tool(name, "a tool", {"type": "object"})


def errors_of(check, value) -> set:
    with pytest.raises(ValidationError) as caught:
        check(value)
    return set(caught.value.errors)


# ------------------------------------------------------------------------------------ request


def test_f096_request_accumulates_every_error_in_one_validation_error():
    request = Request(
        messages=(),
        tools=(make_tool("lookup"), make_tool("lookup")),
        temperature=2.5,
        max_tokens=0,
        response_format=42,  # type: ignore[arg-type]
        structured_finalize=True,
    )

    with pytest.raises(ValidationError) as caught:
        validate.request(request)

    error = caught.value
    assert error.reason == "invalid_request"
    assert isinstance(error, ValueError)
    assert set(error.errors) == {
        (("messages",), "empty"),
        (("tools", 1, "name"), "duplicate_name"),
        (("temperature",), "out_of_range"),
        (("max_tokens",), "must_be_positive"),
        (("response_format",), "invalid_shape"),
        (("structured_finalize",), "requires_json_schema"),
    }
    assert len(error.errors) == 6


def test_f096_a_valid_request_passes():
    request = Request(
        messages=OK_MESSAGES,
        tools=(make_tool("a"), make_tool("b")),
        tool_choice="b",
        temperature=0.0,
        max_tokens=1,
        response_format=allm.json_schema("out", {"type": "object"}),
        structured_finalize=True,
    )

    assert validate.request(request) is None
    assert validate.errors_request(request) == []


@pytest.mark.parametrize("temperature", [0, 0.0, 1, 2.0])
def test_f096_temperature_bounds_are_inclusive(temperature):
    assert validate.errors_request(Request(messages=OK_MESSAGES, temperature=temperature)) == []


@pytest.mark.parametrize("temperature", [-0.01, 2.01, 100])
def test_f096_temperature_outside_zero_to_two_is_out_of_range(temperature):
    request = Request(messages=OK_MESSAGES, temperature=temperature)

    assert errors_of(validate.request, request) == {(("temperature",), "out_of_range")}


@pytest.mark.parametrize("max_tokens", [0, -5, True, 1.5])
def test_f096_max_tokens_must_be_a_positive_int(max_tokens):
    request = Request(messages=OK_MESSAGES, max_tokens=max_tokens)

    assert errors_of(validate.request, request) == {(("max_tokens",), "must_be_positive")}


@pytest.mark.parametrize("fmt", [None, "text", {"type": "json_object"}, {"provider": "shape"}])
def test_f096_accepted_response_formats(fmt):
    assert validate.errors_request(Request(messages=OK_MESSAGES, response_format=fmt)) == []


@pytest.mark.parametrize("fmt", ["json", 1, ["json_object"]])
def test_f096_response_format_must_be_none_text_or_a_dict(fmt):
    request = Request(messages=OK_MESSAGES, response_format=fmt)

    assert errors_of(validate.request, request) == {(("response_format",), "invalid_shape")}


@pytest.mark.parametrize("fmt", [None, "text", {"type": "json_object"}])
def test_f096_structured_finalize_requires_a_json_schema_format(fmt):
    request = Request(messages=OK_MESSAGES, response_format=fmt, structured_finalize=True)

    assert errors_of(validate.request, request) == {
        (("structured_finalize",), "requires_json_schema")
    }


def test_f096_message_errors_carry_their_index_in_the_request():
    request = Request(messages=(allm.user("ok"), Message("tool", "72F"), Message("robot", "x")))

    assert errors_of(validate.request, request) == {
        (("messages", 1, "tool_call_id"), "required"),
        (("messages", 2, "role"), "unknown"),
    }


def test_tool_choice_must_name_a_known_tool():
    tools = (make_tool("search"),)

    assert (
        validate.errors_request(Request(messages=OK_MESSAGES, tools=tools, tool_choice="search"))
        == []
    )
    assert (
        validate.errors_request(
            Request(messages=OK_MESSAGES, tools=tools, tool_choice=("tool", "search"))
        )
        == []
    )
    assert errors_of(
        validate.request, Request(messages=OK_MESSAGES, tools=tools, tool_choice="other")
    ) == {(("tool_choice",), "unknown_tool")}


# -------------------------------------------------------------------------------------- tools


@given(tool_names)
def test_f097_names_matching_the_pattern_are_valid(name):
    assert validate.tool(make_tool(name)) is None


@pytest.mark.parametrize("name", ["auto", "none", "required"])
def test_f097_reserved_names_are_rejected(name):
    assert errors_of(validate.tool, make_tool(name)) == {(("name",), "reserved_tool_name")}


@pytest.mark.parametrize(
    "name",
    ["has space", "dot.name", "a" * 65, "emoji_\N{SNOWMAN}", "slash/name", "tab\t", "lookup\n"],
)
def test_f097_names_outside_the_pattern_are_invalid_format(name):
    assert errors_of(validate.tool, make_tool(name)) == {(("name",), "invalid_format")}


def test_f097_an_empty_name_is_empty():
    assert errors_of(validate.tool, make_tool("")) == {(("name",), "empty")}


@given(
    st.text(min_size=1, max_size=70).filter(
        lambda name: (
            len(name) > 64
            or any(not (char.isascii() and (char.isalnum() or char in "_-")) for char in name)
        )
    )
)
def test_f097_any_name_outside_the_pattern_fails(name):
    assert errors_of(validate.tool, make_tool(name)) == {(("name",), "invalid_format")}


def test_f097_the_longest_legal_name_has_64_characters():
    assert validate.tool(make_tool("a" * 64)) is None


def test_tool_validation_accumulates_description_and_schema_errors():
    tool = Tool("bad name", 3, [])  # type: ignore[arg-type]

    with pytest.raises(ValidationError) as caught:
        validate.tool(tool)

    assert caught.value.reason == "invalid_tool"
    assert set(caught.value.errors) == {
        (("name",), "invalid_format"),
        (("description",), "not_a_string"),
        (("schema",), "not_a_map"),
    }


def test_f097_request_reports_tool_errors_with_their_index():
    request = Request(messages=OK_MESSAGES, tools=(make_tool("ok"), make_tool("auto")))

    assert errors_of(validate.request, request) == {(("tools", 1, "name"), "reserved_tool_name")}


# ----------------------------------------------------------------------------------- messages


def test_f098_a_tool_message_needs_a_tool_call_id():
    with pytest.raises(ValidationError) as caught:
        validate.message(Message("tool", "72F"))

    assert caught.value.reason == "invalid_message"
    assert caught.value.errors == ((("tool_call_id",), "required"),)


def test_f098_a_tool_result_message_is_valid():
    assert validate.message(allm.tool_result("call_1", "72F")) is None


@pytest.mark.parametrize("build", [allm.system, allm.user, allm.assistant])
def test_other_roles_need_no_tool_call_id(build):
    assert validate.message(build("x")) is None


def test_message_validation_accumulates_role_and_content_errors():
    message = Message("robot", {"raw": "dict"})  # type: ignore[arg-type]

    assert errors_of(validate.message, message) == {
        (("role",), "unknown"),
        (("content",), "invalid_type"),
    }


def test_message_parts_must_be_typed_parts():
    message = allm.user([allm.TextPart("ok"), {"type": "image_url"}, 42])  # type: ignore[list-item]

    assert errors_of(validate.message, message) == {
        (("content", 1), "vision_not_in_v0_2"),
        (("content", 2), "invalid_part_type"),
    }


def test_thread_validation_reports_message_paths():
    thread = Thread((allm.user("hi"), Message("tool", "x")))

    with pytest.raises(ValidationError) as caught:
        validate.thread(thread)

    assert caught.value.reason == "invalid_thread"
    assert caught.value.errors == ((("messages", 1, "tool_call_id"), "required"),)
    assert validate.thread(Thread(OK_MESSAGES)) is None


# ----------------------------------------------------------------------------------- sessions

CALL = ToolCall("call_1", "lookup", {"q": "x"})


@pytest.mark.parametrize(
    "session",
    [
        Session(),
        Session(status="completed"),
        Session(status="awaiting_user", pending_question="Which?", pending_tool_call_id="c1"),
        Session(status="awaiting_tools", pending_tool_calls=(CALL,)),
        Session(status="error", metadata={"error": allm.AdapterError("unknown")}),
    ],
    ids=lambda session: str(session.status),
)
def test_sessions_that_keep_the_status_invariants_are_valid(session):
    assert validate.session(session) is None


@pytest.mark.parametrize(
    ("session", "expected"),
    [
        (
            Session(status="awaiting_user"),
            {
                (("pending_question",), "required_for_status"),
                (("pending_tool_call_id",), "required_for_status"),
            },
        ),
        (
            Session(status="awaiting_tools"),
            {(("pending_tool_calls",), "required_for_status")},
        ),
        (Session(status="error"), {(("metadata",), "error_required_for_status")}),
        (Session(status="sleeping"), {(("status",), "unknown")}),
        (
            Session(status="idle", pending_question="Which?"),
            {(("pending_question",), "forbidden_for_status")},
        ),
        (
            Session(status="completed", pending_tool_calls=(CALL,)),
            {(("pending_tool_calls",), "forbidden_for_status")},
        ),
        (
            Session(thread=Thread((Message("tool", "x"),))),
            {(("thread", "messages", 0, "tool_call_id"), "required")},
        ),
    ],
    ids=["awaiting_user", "awaiting_tools", "error", "unknown", "idle", "completed", "thread"],
)
def test_session_status_invariants(session, expected):
    with pytest.raises(ValidationError) as caught:
        validate.session(session)

    assert caught.value.reason == "invalid_session"
    assert set(caught.value.errors) == expected


# ------------------------------------------------------------------------------ image requests


def test_image_request_operation_arity():
    image = Image.from_url("https://example.com/a.png")

    assert validate.image_request(ImageRequest(prompt="a cat")) is None
    assert (
        validate.image_request(ImageRequest(operation="edit", prompt="hat", input_images=[image]))
        is None
    )
    assert errors_of(validate.image_request, ImageRequest()) == {
        (("prompt",), "required_for_operation")
    }
    assert errors_of(validate.image_request, ImageRequest(operation="edit", prompt="x", n=0)) == {
        (("input_images",), "one_or_two_required"),
        (("n",), "must_be_positive"),
    }


def test_validators_reject_values_of_the_wrong_type():
    assert validate.errors_request("not a request") == [((), "not_a_request")]
    assert validate.errors_message("hi") == [((), "not_a_message")]
    assert validate.errors_tool({"name": "x"}) == [((), "not_a_tool")]
    assert validate.errors_session(None) == [(("session",), "invalid_type")]
