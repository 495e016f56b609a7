"""The pieces of the hardening one by one: the book of secrets, header and key checks, model names
in URL paths, JSON-encodable values, the retry cap and deadline, the one-time resend."""

from __future__ import annotations

import math
import pickle
import time
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

import allm
from allm import _secrets, validate
from allm.adapters import Call
from allm.adapters.http import (
    HttpRequest,
    HttpSend,
    Transport,
    header_problem,
    is_secret_header,
)
from allm.adapters.urls import path_segment, path_segment_problem
from allm.effects import Deadline, Scope, Sleep
from allm.errors import AdapterError, ConfigurationError, ToolError, ValidationError
from allm.providers import Anthropic, Gemini, OpenAI, OpenAICompatible
from allm.retry import Ok, Retry, RetryPolicy, policy_from, retrying

KEY = "sk-UNITSECRET-0123456789"


@pytest.fixture(autouse=True)
def fresh_book(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_secrets, "_known", {})
    monkeypatch.setattr(_secrets, "_pattern", None)


# -- the book of secrets -----------------------------------------------------------------------


def test_fragments_cover_the_printed_forms_of_a_key_with_a_newline():
    forms = _secrets.fragments("Bearer " + KEY + "\n")

    assert KEY in forms
    assert "Bearer " + KEY + "\\n" in forms
    assert "Bearer" not in forms  # the scheme word is not secret


def test_short_values_are_not_secrets():
    _secrets.remember("test")
    _secrets.remember(None)

    assert _secrets.scrub("a test message") == "a test message"
    assert not _secrets.contains_secret("test")


def test_every_error_kind_is_scrubbed_at_birth():
    _secrets.remember(KEY + "\n")

    error = ToolError(
        "handler_raised",
        f"boom {KEY}",
        metadata={"nested": [{"k": f"x{KEY}y"}], "n": 1},
        cause=RuntimeError(f"inner {KEY!r}"),
        tool_name="t",
    )
    wrapped = AdapterError("unknown", cause=error)

    assert error.message == "boom [redacted]"
    assert error.metadata == {"nested": [{"k": "x[redacted]y"}], "n": 1}
    assert error.cause == "RuntimeError: inner '[redacted]'"
    assert wrapped.cause is error
    assert KEY not in repr(pickle.loads(pickle.dumps(wrapped)))
    assert KEY not in allm.to_json(wrapped)


def test_values_without_secrets_are_left_alone():
    _secrets.remember(KEY)
    cause = ValueError("harmless")
    metadata = {"a": ("b", 1), "c": [None]}

    assert _secrets.scrub_value(metadata) is metadata
    assert _secrets.scrub_value(cause) is cause
    assert AdapterError("unknown", cause=cause).cause is cause


def test_the_book_is_bounded(monkeypatch):
    monkeypatch.setattr(_secrets, "_MAX_FRAGMENTS", 2)
    for number in range(3):
        _secrets.remember(f"secret-number-{number}")

    assert _secrets.scrub("secret-number-0 secret-number-2") == "secret-number-0 [redacted]"


def test_extra_secrets_are_scrubbed_without_being_remembered():
    assert _secrets.scrub(f"x {KEY} y", [KEY, None]) == "x [redacted] y"  # type: ignore[list-item]
    assert _secrets.scrub(f"x {KEY} y") == f"x {KEY} y"


@given(st.text(min_size=6, max_size=40).filter(lambda s: len(s.strip()) >= 6))
def test_a_remembered_value_never_survives_in_an_error_message(value):
    _secrets.remember(value)

    error = AdapterError("unknown", f"before {value} after {value!r}")

    assert value not in error.message


# -- header and key checks ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("ok value", None),
        ("", None),
        ("a\nb", "line break"),
        ("a\rb", "line break"),
        ("a\x00b", "control character"),
        ("a\x7f", "control character"),
        ("caf\u00e9", "non-ASCII"),
        (" lead", "whitespace"),
        ("tail\t", "whitespace"),
    ],
)
def test_header_problems_say_what_is_wrong_never_the_value(value, problem):
    found = header_problem(value)

    assert (found is None) if problem is None else (problem in found)


@pytest.mark.parametrize(
    ("name", "secret"),
    [("Authorization", True), ("x-goog-api-key", True), ("X-My-Token", True),
     ("cookie", True), ("proxy-authorization", True), ("content-type", False), ("x-trace", False)],
)  # fmt: skip
def test_secret_headers(name, secret):
    assert is_secret_header(name) is secret


def test_a_request_with_an_invalid_header_name_or_value_type_is_refused():
    with pytest.raises(ConfigurationError) as info:
        HttpRequest("GET", "http://x", (("bad name", "v"), ("x-n", 3)))  # type: ignore[arg-type]

    assert info.value.reason == "invalid_header"
    assert len(info.value.problems) == 2
    assert "HttpRequest(GET http://x" in repr(HttpRequest("GET", "http://x", (("api-key", "k"),)))


def test_constructor_headers_are_checked_too():
    engine = allm.Engine(adapter=OpenAI(headers={"x-a": "1\n2"}), model="gpt-4o")

    with pytest.raises(ConfigurationError) as info:
        allm.generate(engine, [allm.user("hi")], api_key=KEY)

    assert info.value.reason == "invalid_header"


def test_a_compatible_server_without_a_key_sends_no_authorization():
    adapter = OpenAICompatible(base_url="http://127.0.0.1:9/v1")
    engine = allm.Engine(adapter=adapter, model="llama3")

    call = Call(request_id="r", engine=engine)
    request = adapter.prepare_request(allm.request([allm.user("hi")], model="llama3"), call)

    assert "authorization" not in request.headers


def _call(engine: allm.Engine, **opts: Any) -> Any:
    from allm.adapters import Call

    return Call(request_id="r", engine=engine, adapter_opts=opts, api_key=KEY)


# -- model names in URL paths ------------------------------------------------------------------

GEMINI_PREFIXES = ("models/", "tunedModels/")


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("gemini-2.0-flash", None),
        ("models/gemini-2.0-flash", None),
        ("tunedModels/my-model-123", None),
        ("gemini-1.5-pro-002@001", None),
        ("../../v1/other", "slash_in_model_name"),
        ("models/../../x", "slash_in_model_name"),
        ("models/..", "dot_segment_in_model_name"),
        ("..", "dot_segment_in_model_name"),
        ("a..b", "dot_segment_in_model_name"),
        ("gemini pro", "unsafe_characters_in_model_name"),
        ("gemini\n", "unsafe_characters_in_model_name"),
        ("x?key=1", "unsafe_characters_in_model_name"),
        ("x#frag", "unsafe_characters_in_model_name"),
        ("%2e%2e", "unsafe_characters_in_model_name"),
        ("a\\b", "unsafe_characters_in_model_name"),
        ("models/", "empty_model_name"),
        ("", "empty_model_name"),
        (None, "empty_model_name"),
    ],
)
def test_path_segment_problems(name, problem):
    assert path_segment_problem(name, prefixes=GEMINI_PREFIXES) == problem


def test_path_segment_quotes_what_it_lets_through():
    assert path_segment("a:b@c", provider="p") == "a:b@c"
    with pytest.raises(ValidationError) as info:
        path_segment("a/b", provider="p")
    assert info.value.errors == ((("model",), "slash_in_model_name"),)


WALKERS = ["../../v1/other", "models/../../../v1/files", "x?alt=json#", "tunedModels/a/b"]


@pytest.mark.parametrize("model", WALKERS)
def test_gemini_refuses_a_model_that_would_walk_the_path_before_any_key(model):
    engine = allm.Engine(adapter=Gemini(base_url="http://127.0.0.1:9"), model=model)

    with pytest.raises(ValidationError) as info:
        allm.generate(engine, [allm.user("hi")])  # no key anywhere: the check comes first

    assert info.value.errors[0][0] == ("model",)


@pytest.mark.parametrize("model", WALKERS)
@pytest.mark.parametrize(
    ("adapter", "path"),
    [
        (OpenAI(base_url="http://h/v1"), "/v1/chat/completions"),
        (OpenAICompatible(base_url="http://h/v1"), "/v1/chat/completions"),
        (Anthropic(base_url="http://h/v1"), "/v1/messages"),
    ],
)
def test_on_the_other_wires_the_model_never_touches_the_url(adapter, path, model):
    engine = allm.Engine(adapter=adapter, model=model)
    request = allm.request([allm.user("hi")], model=model)

    built = adapter.prepare_request(request, _call(engine), stream=True)

    assert built.url.path == path
    assert built.url.query == b""


# -- JSON-encodable values ---------------------------------------------------------------------


class Opaque:
    pass


def test_json_errors_list_every_problem_with_its_path():
    loop: list[Any] = []
    loop.append(loop)
    value = {
        "ok": [1, 2.5, "s", None, True, {"a": ()}],
        "obj": Opaque(),
        "set": {1},
        "bytes": b"x",
        "nan": math.nan,
        "inf": [math.inf],
        "keys": {1: "a", ("t",): "b"},
        "loop": loop,
    }

    errors = validate.errors_json(value, ("options",))

    assert sorted(errors) == sorted(
        [
            (("options", "obj"), "not_json_encodable"),
            (("options", "set"), "not_json_encodable"),
            (("options", "bytes"), "not_json_encodable"),
            (("options", "nan"), "non_finite_number"),
            (("options", "inf", 0), "non_finite_number"),
            (("options", "keys", "1"), "non_string_key"),
            (("options", "keys", "('t',)"), "non_string_key"),
            (("options", "loop", 0), "circular_reference"),
        ]
    )


def test_shared_values_are_not_cycles():
    shared = {"a": 1}

    assert validate.errors_json({"x": shared, "y": [shared, shared]}) == []


def test_every_json_problem_of_a_request_is_a_validation_error_before_any_io():
    tool = allm.Tool(name="t", description="d", schema={"type": "object", "default": Opaque()})
    message = allm.assistant("")
    call = allm.ToolCall(id="c1", name="t", arguments={"when": Opaque()}, raw_arguments=None)
    from dataclasses import replace

    message = replace(message, tool_calls=(call,))
    request = allm.request(
        [allm.user("hi"), message, allm.tool_result("c1", "ok")],
        tools=(tool,),
        options={"seed": {1, 2}},
        response_format={"type": "json_object", "extra": b"x"},
        tool_choice={"type": "function", "fn": Opaque()},
    )
    engine = allm.Engine(adapter="fake", model="m", params={"bad": math.inf, 3: "x"})

    with pytest.raises(ValidationError) as info:
        allm.generate(engine, request)
    paths = {path for path, _ in info.value.errors}
    assert paths == {
        ("messages", 1, "tool_calls", 0, "arguments", "when"),
        ("tools", 0, "schema", "default"),
        ("options", "seed"),
        ("response_format", "extra"),
        ("tool_choice", "fn"),
    }

    with pytest.raises(ValidationError) as params:
        allm.generate(engine, [allm.user("hi")], provider_options={"fake": {"other": Opaque()}})
    assert {path for path, _ in params.value.errors} == {
        ("params", "bad"),
        ("params", "3"),
        ("provider_options", "fake", "other"),
    }


def test_image_options_must_be_json():
    engine = allm.Engine(image_adapter="fake_images")

    with pytest.raises(ValidationError) as info:
        allm.generate_image(
            engine, allm.data.images.ImageRequest(prompt="p", options={"x": Opaque()})
        )

    assert (("options", "x"), "not_json_encodable") in info.value.errors


@pytest.mark.parametrize(
    ("slot", "name", "run"),
    [
        ("embedding_adapter", "fake_embeddings", allm.embed),
        ("moderation_adapter", "fake_moderation", allm.moderate),
    ],
)
def test_embedding_and_moderation_options_and_params_must_be_json(slot, name, run):
    engine = allm.Engine(**{slot: name})

    with pytest.raises(ValidationError) as info:
        run(engine, "text", options={"x": Opaque()}, extra={1, 2})

    assert set(info.value.errors) == {
        (("options", "x"), "not_json_encodable"),
        (("params", "extra"), "not_json_encodable"),
    }


# -- retry: the cap and the deadline -----------------------------------------------------------


def _run(plan: Any, deadline: float | None = None) -> tuple[Any, list[Any]]:
    effects = []
    reply: Any = None
    while True:
        try:
            effect = plan.send(reply)
        except StopIteration as stop:
            return stop.value, effects
        effects.append(effect)
        reply = deadline if isinstance(effect, Deadline) else None


def _outcomes(*outcomes: Any) -> Any:
    def attempt(number: int) -> Any:
        return outcomes[number - 1]
        yield  # pragma: no cover

    return attempt


def test_a_retry_after_over_the_cap_returns_at_once():
    error = AdapterError("rate_limited", status=429, retry_after_ms=86_400_000)
    policy = RetryPolicy()

    outcome, effects = _run(retrying(policy, {}, _outcomes(Retry(error, 86_400_000), Ok(1))))

    assert outcome == Retry(error, 86_400_000)
    assert effects == [Deadline(None)]
    assert policy.waits_too_long(60_001) and not policy.waits_too_long(60_000)
    assert not RetryPolicy(max_retry_after_ms=None).waits_too_long(10**9)
    assert not RetryPolicy(respect_retry_after=False).waits_too_long(10**9)


def test_a_wait_that_would_end_past_the_deadline_is_not_started():
    error = AdapterError("provider_unavailable", status=503)
    policy = RetryPolicy(deadline_ms=100, base_delay_ms=500, jitter_ms=0)

    plan = retrying(policy, {}, _outcomes(Retry(error), Ok(1)))
    outcome, effects = _run(plan, deadline=time.monotonic() + 0.1)

    assert outcome == Retry(error)
    assert effects == [Deadline(0.1)]
    assert not any(isinstance(effect, Sleep) for effect in effects)


def test_a_wait_inside_the_deadline_is_taken():
    error = AdapterError("provider_unavailable", status=503)
    policy = RetryPolicy(deadline_ms=60_000, base_delay_ms=10, jitter_ms=0)

    outcome, effects = _run(
        retrying(policy, {}, _outcomes(Retry(error), Ok(1))), deadline=time.monotonic() + 60
    )

    assert outcome == Ok(1)
    assert effects == [Deadline(60.0), Sleep(0.01)]


@pytest.mark.parametrize(
    "setting", [{"deadline_ms": 0}, {"max_retry_after_ms": -1}, {"deadline_ms": "5"}]
)
def test_bad_caps_and_deadlines_are_refused(setting):
    with pytest.raises(ConfigurationError) as info:
        policy_from(setting)

    assert info.value.reason == "invalid_retry_policy"


def test_caps_and_deadlines_from_a_dict():
    policy = policy_from({"deadline_ms": 500, "max_retry_after_ms": None})

    assert (policy.deadline_ms, policy.max_retry_after_ms) == (500, None)
    assert "network_error" in policy.retry_on


# -- the transport: a deadline already passed, a dead pooled connection, encoding failures -----


def _send(client: httpx.Client, deadline: float | None = None) -> Any:
    scope = Scope()
    scope.deadline = deadline
    request = HttpRequest("POST", "http://h/x", (("authorization", "Bearer " + KEY),), b"{}")
    try:
        return HttpSend(Transport(client), request, False).run_sync(scope)
    finally:
        scope.close_all()


def test_a_passed_deadline_sends_nothing():
    calls: list[Any] = []
    client = httpx.Client(transport=httpx.MockTransport(lambda r: calls.append(r)))

    failure = _send(client, deadline=time.monotonic() - 1)

    assert (failure.reason, calls) == ("timeout", [])


@pytest.mark.parametrize("kind", [httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError])
def test_a_failure_on_a_reused_connection_is_sent_again_once(kind):
    calls: list[Any] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        if len(calls) == 1:
            raise kind("Server disconnected without sending a response.")
        return httpx.Response(200, json={"ok": True})

    result = _send(httpx.Client(transport=httpx.MockTransport(handler)))

    assert result.status == 200
    assert len(calls) == 2


def test_a_second_failure_or_a_connect_error_is_left_to_the_policy():
    calls: list[Any] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        raise httpx.ReadError(f"reset while sending {request.headers['authorization']}")

    failure = _send(httpx.Client(transport=httpx.MockTransport(handler)))
    assert (failure.reason, len(calls)) == ("network_error", 2)
    assert KEY not in failure.message

    calls.clear()

    def refused(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        raise httpx.ConnectError("refused")

    failure = _send(httpx.Client(transport=httpx.MockTransport(refused)))
    assert (failure.reason, len(calls)) == ("network_error", 1)


def test_a_request_httpx_cannot_encode_is_a_scrubbed_failure_not_a_crash():
    class Refusing(httpx.Client):
        def build_request(self, *args: Any, **kwargs: Any) -> Any:
            raise ValueError(f"cannot encode Bearer {KEY}")

    failure = _send(Refusing())

    assert failure.reason == "network_error"
    assert KEY not in failure.message


async def _asend(client: httpx.AsyncClient, deadline: float | None = None) -> Any:
    scope = Scope()
    scope.deadline = deadline
    request = HttpRequest("POST", "http://h/x", (("authorization", "Bearer " + KEY),), b"{}")
    try:
        return await HttpSend(Transport(None, client), request, False).run_async(scope)
    finally:
        await scope.aclose_all()


@pytest.mark.anyio
async def test_async_twins_of_the_transport_rules():
    assert (await _asend(httpx.AsyncClient(), deadline=time.monotonic() - 1)).reason == "timeout"

    calls: list[Any] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        if len(calls) == 1:
            raise httpx.RemoteProtocolError("Server disconnected without sending a response.")
        return httpx.Response(200, json={"ok": True})

    assert (await _asend(httpx.AsyncClient(transport=httpx.MockTransport(handler)))).status == 200
    assert len(calls) == 2

    class Refusing(httpx.AsyncClient):
        def build_request(self, *args: Any, **kwargs: Any) -> Any:
            raise ValueError(f"cannot encode Bearer {KEY}")

    failure = await _asend(Refusing())
    assert failure.reason == "network_error" and KEY not in failure.message
