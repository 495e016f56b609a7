"""The Bedrock adapter beyond the transcripts: SigV4 checked against botocore's own signer, the
Bedrock API key, regions, model ids and ARNs in the path, pre-flight refusals, retries, secrets,
the request body for every kind of content, and generate == fold(stream_generate)."""

from __future__ import annotations

import datetime
import json
import subprocess
import sys
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import allm
from allm import keys
from allm.errors import ConfigurationError, EngineError, ValidationError
from allm.providers.bedrock import Bedrock, BedrockStreamDecoder, classify, finish_reason_for
from allm.providers.bedrock.errors import error_type_of
from allm.retry import RetryPolicy

from .cases import MODEL, by_name
from .eventstream import event, message
from .support import ACCESS_KEY, SECRET_KEY, SESSION_TOKEN, adapter

HI = [allm.user("hi")]
FIXED = datetime.datetime(2026, 12, 6, 12, 30, 0, tzinfo=datetime.timezone.utc)


class Recorder:
    """A mock transport that answers every request with one recorded transcript."""

    def __init__(self, name: str = "text_stream", status: int | None = None) -> None:
        self.transcript = by_name(name)
        self.status = status
        self.seen: list[httpx.Request] = []
        self.answers: list[tuple[int, dict[str, str], bytes]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        if self.answers:
            status, headers, body = self.answers.pop(0)
            return httpx.Response(status, headers=headers, content=body)
        t = self.transcript
        return httpx.Response(self.status or t.status, headers=t.headers, content=t.response)

    def opts(self) -> dict[str, Any]:
        async def handle(request: httpx.Request) -> httpx.Response:
            return self(request)

        return {
            "http_client": httpx.Client(transport=httpx.MockTransport(self)),
            "async_http_client": httpx.AsyncClient(transport=httpx.MockTransport(handle)),
        }


def engine(recorder: Recorder, bedrock: Bedrock | None = None, **opts: Any) -> allm.Engine:
    return allm.Engine(
        adapter=bedrock or adapter(),
        model=MODEL,
        adapter_opts={**recorder.opts(), **opts},
        retry=False,
    )


@pytest.fixture
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    import botocore.auth

    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: FIXED.replace(tzinfo=None))


@pytest.fixture(autouse=True)
def no_ambient_aws(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    """No credential, region or config from the machine running the tests."""
    for name in (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "AWS_BEARER_TOKEN_BEDROCK",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.delenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", raising=False)
    monkeypatch.delenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", raising=False)


# -- signing ----------------------------------------------------------------------------------


def _botocore_signature(sent: httpx.Request, token: str | None) -> dict[str, str]:
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    request = AWSRequest(
        method="POST",
        url=str(sent.url),
        data=sent.content,
        headers={"content-type": "application/json", "accept": sent.headers["accept"]},
    )
    SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY, token), "bedrock", "us-east-1").add_auth(request)
    return {name.lower(): str(value) for name, value in request.headers.items()}


@pytest.mark.parametrize("token", [None, SESSION_TOKEN])
@pytest.mark.parametrize("stream", [True, False])
def test_the_signature_is_botocores_for_a_fixed_clock(
    fixed_clock: None, token: str | None, stream: bool
) -> None:
    recorder = Recorder("text_stream" if stream else "text_nonstream")
    bedrock = adapter(aws_session_token=token)
    allm.generate(engine(recorder, bedrock), by_name("text_stream").build(), streaming=stream)
    sent = recorder.seen[-1]
    expected = _botocore_signature(sent, token)
    assert sent.headers["authorization"] == expected["authorization"]
    assert sent.headers["x-amz-date"] == "20261206T123000Z" == expected["x-amz-date"]
    assert sent.headers.get("x-amz-security-token") == token
    assert "SignedHeaders=accept;content-type;host;x-amz-date" in sent.headers["authorization"]
    assert sent.url.host == "bedrock-runtime.us-east-1.amazonaws.com"


def test_the_default_chain_signs_with_the_environment_credentials(
    fixed_clock: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    recorder = Recorder()
    response = allm.generate(engine(recorder, Bedrock()), HI)
    assert response.text == "Hello! How can I help?"
    sent = recorder.seen[-1]
    assert sent.headers["authorization"] == _botocore_signature(sent, None)["authorization"]


def test_a_profile_from_the_shared_files_signs(
    fixed_clock: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    (tmp_path / "credentials").write_text(
        f"[work]\naws_access_key_id = {ACCESS_KEY}\naws_secret_access_key = {SECRET_KEY}\n"
    )
    (tmp_path / "config").write_text("[profile work]\nregion = us-east-1\n")
    recorder = Recorder()
    allm.generate(engine(recorder, Bedrock(profile="work")), HI)
    sent = recorder.seen[-1]
    assert sent.url.host == "bedrock-runtime.us-east-1.amazonaws.com"
    assert sent.headers["authorization"] == _botocore_signature(sent, None)["authorization"]


def test_no_credentials_anywhere_is_missing_key_before_any_io() -> None:
    recorder = Recorder()
    with pytest.raises(EngineError) as raised:
        allm.generate(engine(recorder, Bedrock(region="us-east-1")), HI)
    assert raised.value.reason == "missing_key"
    assert "AWS_BEARER_TOKEN_BEDROCK" in raised.value.message
    assert recorder.seen == []


def test_a_missing_profile_is_missing_key() -> None:
    with pytest.raises(EngineError) as raised:
        allm.generate(engine(Recorder(), Bedrock(region="us-east-1", profile="nope")), HI)
    assert raised.value.reason == "missing_key"
    assert "nope" in raised.value.message


def test_half_explicit_credentials_are_a_configuration_error() -> None:
    bedrock = Bedrock(region="us-east-1", aws_access_key_id=ACCESS_KEY)
    with pytest.raises(ConfigurationError, match="go together"):
        allm.generate(engine(Recorder(), bedrock), HI)


# -- Bedrock API keys ---------------------------------------------------------------------------


def test_a_bedrock_api_key_from_the_environment_is_a_bearer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_BEARER_TOKEN_BEDROCK", "bedrock-api-key-ABSKQmVkcm9jaw")
    recorder = Recorder()
    allm.generate(engine(recorder, Bedrock(region="us-west-2")), HI)
    sent = recorder.seen[-1]
    assert sent.headers["authorization"] == "Bearer bedrock-api-key-ABSKQmVkcm9jaw"
    assert "x-amz-date" not in sent.headers
    assert sent.url.host == "bedrock-runtime.us-west-2.amazonaws.com"


def test_explicit_credentials_win_over_an_ambient_api_key(
    fixed_clock: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_BEARER_TOKEN_BEDROCK", "bedrock-api-key-ambient")
    recorder = Recorder()
    allm.generate(engine(recorder), HI)
    assert recorder.seen[-1].headers["authorization"].startswith("AWS4-HMAC-SHA256")


def test_the_api_key_keyword_wins_over_everything() -> None:
    recorder = Recorder()
    allm.generate(engine(recorder), HI, api_key="bedrock-api-key-call")
    assert recorder.seen[-1].headers["authorization"] == "Bearer bedrock-api-key-call"


def test_a_key_put_for_bedrock_is_used() -> None:
    keys.put("bedrock", "bedrock-api-key-put")
    try:
        recorder = Recorder()
        allm.generate(engine(recorder, Bedrock(region="us-east-1")), HI)
    finally:
        keys.delete("bedrock")
    assert recorder.seen[-1].headers["authorization"] == "Bearer bedrock-api-key-put"


# -- regions, hosts and model ids ---------------------------------------------------------------


def test_the_region_comes_from_the_option_then_aws_region_then_aws_default_region(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    recorder = Recorder()
    bedrock = Bedrock()
    allm.generate(engine(recorder, bedrock), HI, api_key="k-123456")
    monkeypatch.setenv("AWS_REGION", "eu-central-1")
    allm.generate(engine(recorder, bedrock), HI, api_key="k-123456")
    allm.generate(
        engine(recorder, bedrock), HI, api_key="k-123456", adapter_opts={"region": "ap-south-1"}
    )
    allm.generate(engine(recorder, bedrock, region="us-east-2"), HI, api_key="k-123456")
    hosts = [r.url.host for r in recorder.seen]
    assert hosts == [
        "bedrock-runtime.eu-west-1.amazonaws.com",
        "bedrock-runtime.eu-central-1.amazonaws.com",
        "bedrock-runtime.ap-south-1.amazonaws.com",
        "bedrock-runtime.us-east-2.amazonaws.com",
    ]


def test_no_region_is_a_configuration_error_before_any_io() -> None:
    recorder = Recorder()
    with pytest.raises(ConfigurationError, match="needs a region"):
        allm.generate(engine(recorder, Bedrock()), HI, api_key="k-123456")
    with pytest.raises(ConfigurationError, match="not an AWS region"):
        allm.generate(engine(recorder, Bedrock(region="x.evil.com/")), HI, api_key="k-123456")
    assert recorder.seen == []


def test_a_base_url_replaces_the_host() -> None:
    recorder = Recorder()
    bedrock = Bedrock(base_url="https://vpce-1.bedrock-runtime.us-east-1.vpce.amazonaws.com/")
    allm.generate(engine(recorder, bedrock), HI, api_key="k-123456")
    assert str(recorder.seen[-1].url).startswith(
        "https://vpce-1.bedrock-runtime.us-east-1.vpce.amazonaws.com/model/"
    )


@pytest.mark.parametrize(
    ("model", "path"),
    [
        (MODEL, "/model/anthropic.claude-3-5-sonnet-20241022-v2%3A0/converse-stream"),
        (
            "us.anthropic.claude-3-7-sonnet-20250219-v1:0",
            "/model/us.anthropic.claude-3-7-sonnet-20250219-v1%3A0/converse-stream",
        ),
        (
            "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.meta.llama3-2-1b-instruct-v1:0",
            "/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012%3Ainference-profile%2F"
            "us.meta.llama3-2-1b-instruct-v1%3A0/converse-stream",
        ),
    ],
)
def test_model_ids_and_arns_are_one_encoded_path_segment(model: str, path: str) -> None:
    recorder = Recorder()
    allm.generate(engine(recorder), HI, model=model)
    assert recorder.seen[-1].url.raw_path.decode() == path


def test_a_bedrock_model_string_selects_the_adapter(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    recorder = Recorder()
    allm.configure(providers={"bedrock": recorder.opts()})
    try:
        response = allm.generate(
            allm.Engine(retry=False), HI, model=f"bedrock:{MODEL}", api_key="k-123456"
        )
    finally:
        allm.configure(providers={})
    assert response.text == "Hello! How can I help?"
    assert "%3A0/converse-stream" in str(recorder.seen[-1].url)


@pytest.mark.parametrize("model", ["../../other", "a/../b", "model?x=1", "has space", "a%2Fb"])
def test_unsafe_model_names_are_refused_before_any_io(model: str) -> None:
    recorder = Recorder()
    with pytest.raises((ValidationError, EngineError)):
        allm.generate(engine(recorder), HI, model=model)
    assert recorder.seen == []


def test_no_credential_reaches_another_providers_host(
    fixed_clock: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_BEARER_TOKEN_BEDROCK", "bedrock-api-key-never-elsewhere")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "anthropic-key-123456")
    bedrock_side, other_side = Recorder(), Recorder()
    other_side.answers = [(500, {"content-type": "application/json"}, b"{}")] * 2
    allm.configure(providers={"anthropic": other_side.opts()})
    try:
        bedrock_engine = engine(bedrock_side)
        allm.generate(bedrock_engine, HI, model="anthropic:claude-haiku-4-5")
        allm.generate(bedrock_engine, HI)
    finally:
        allm.configure(providers={})
    (elsewhere,) = other_side.seen
    assert elsewhere.url.host == "api.anthropic.com"
    for header in ("authorization", "x-amz-date", "x-amz-security-token"):
        assert header not in elsewhere.headers
    assert ACCESS_KEY not in str(elsewhere.headers) and b"AWS4" not in elsewhere.content
    (own,) = bedrock_side.seen
    assert own.url.host == "bedrock-runtime.us-east-1.amazonaws.com"
    assert own.headers["authorization"].startswith("AWS4-HMAC-SHA256")


# -- pre-flight -----------------------------------------------------------------------------------


def test_what_converse_cannot_express_is_refused_with_every_path() -> None:
    recorder = Recorder()
    tool = allm.Tool("t", "a tool", {"type": "object"})
    request = allm.request(
        [allm.user([allm.TextPart("see"), allm.ImagePart(allm.Image.from_url("https://x/y.png"))])],
        tools=[tool],
        tool_choice="none",
        response_format={"type": "json_object"},
    )
    with pytest.raises(ValidationError) as raised:
        allm.generate(engine(recorder), request)
    assert set(raised.value.errors) == {
        (("tool_choice",), "unsupported_tool_choice"),
        (("response_format",), "unsupported_response_format"),
        (("messages", 0, "content", 1), "image_url"),
    }
    with pytest.raises(ValidationError) as raised:
        allm.generate(engine(recorder), allm.request([allm.user("hi")], tool_choice="required"))
    assert raised.value.errors == ((("tool_choice",), "forcing_choice_without_tools"),)
    with pytest.raises(ValidationError):
        allm.generate(engine(recorder), allm.request([allm.user("hi")], seed=3))
    with pytest.raises(EngineError):
        allm.generate(allm.Engine(adapter=adapter()), HI)
    assert recorder.seen == []


# -- the body -------------------------------------------------------------------------------------


def _sent_body(request: allm.Request, **opts: Any) -> dict[str, Any]:
    recorder = Recorder()
    allm.generate(engine(recorder), request, **opts)
    return json.loads(recorder.seen[-1].content)


def test_a_whole_conversation_goes_out_as_content_blocks() -> None:
    call = allm.ToolCall("tooluse_1", "get_weather", {"city": "Paris"}, None)
    reasoning = (
        {"text": "think", "signature": "sig==", "id": "bedrock:reasoning"},
        {"text": "", "signature": "cmVkYWN0ZWQ=", "id": "bedrock:redacted_reasoning"},
        {"text": "other", "signature": "x", "id": "thinking"},  # another provider's: left out
    )
    image = allm.ImagePart(allm.Image.from_bytes(b"\x89PNG....", "image/png"))
    request = allm.request(
        [
            allm.system("Be brief."),
            allm.user([allm.TextPart("Look:"), image]),
            allm.Message(
                "assistant",
                "Checking.",
                tool_calls=(call,),
                metadata={"reasoning_blocks": reasoning},
            ),
            allm.Message("tool", "18C", tool_call_id="tooluse_1", metadata={"is_error": True}),
            allm.tool_result("tooluse_2", "sunny"),
            allm.assistant(""),
            allm.user("Thanks"),
        ],
        tools=[allm.Tool("get_weather", "", {"type": "object"})],
        tool_choice="get_weather",
        temperature=0.2,
        top_p=0.9,
        stop=("END",),
    )
    body = _sent_body(
        request,
        provider_options={
            "bedrock": {
                "additionalModelRequestFields": {"top_k": 40},
                "guardrailConfig": {"guardrailIdentifier": "g1"},
            }
        },
    )
    assert body["system"] == [{"text": "Be brief."}]
    assert body["messages"] == [
        {
            "role": "user",
            "content": [
                {"text": "Look:"},
                {"image": {"format": "png", "source": {"bytes": "iVBORy4uLi4="}}},
            ],
        },
        {
            "role": "assistant",
            "content": [
                {"reasoningContent": {"reasoningText": {"text": "think", "signature": "sig=="}}},
                {"reasoningContent": {"redactedContent": "cmVkYWN0ZWQ="}},
                {"text": "Checking."},
                {
                    "toolUse": {
                        "toolUseId": "tooluse_1",
                        "name": "get_weather",
                        "input": {"city": "Paris"},
                    }
                },
            ],
        },
        {
            "role": "user",
            "content": [
                {
                    "toolResult": {
                        "toolUseId": "tooluse_1",
                        "content": [{"text": "18C"}],
                        "status": "error",
                    }
                },
                {"toolResult": {"toolUseId": "tooluse_2", "content": [{"text": "sunny"}]}},
            ],
        },
        {"role": "user", "content": [{"text": "Thanks"}]},
    ]
    assert body["inferenceConfig"] == {"temperature": 0.2, "topP": 0.9, "stopSequences": ["END"]}
    assert body["toolConfig"]["toolChoice"] == {"tool": {"name": "get_weather"}}
    assert body["toolConfig"]["tools"][0]["toolSpec"]["description"] == "get_weather"
    assert body["additionalModelRequestFields"] == {"top_k": 40}
    assert body["guardrailConfig"] == {"guardrailIdentifier": "g1"}


@pytest.mark.parametrize(
    ("choice", "wire"),
    [
        ("auto", {"auto": {}}),
        ("required", {"any": {}}),
        ("get_weather", {"tool": {"name": "get_weather"}}),
        (
            {"type": "function", "function": {"name": "get_weather"}},
            {"tool": {"name": "get_weather"}},
        ),
        ({"type": "tool", "name": "get_weather"}, {"tool": {"name": "get_weather"}}),
        ({"type": "any"}, {"any": {}}),
        ({"auto": {}}, {"auto": {}}),
        ({"any": {}}, {"any": {}}),
        ({"tool": {"name": "get_weather"}}, {"tool": {"name": "get_weather"}}),
        (None, None),
    ],
)
def test_tool_choice_on_the_wire(choice: Any, wire: Any) -> None:
    tool = allm.Tool("get_weather", "w", {"type": "object"})
    body = _sent_body(allm.request([allm.user("hi")], tools=[tool], tool_choice=choice))
    assert body["toolConfig"].get("toolChoice") == wire


def test_options_by_their_converse_names() -> None:
    options = {
        "stop_sequences": ["x"],
        "inference_config": {"topP": 0.5},
        "additional_model_request_fields": {"reasoning_config": {"type": "enabled"}},
        "performance_config": {"latency": "optimized"},
        "region": "us-east-1",
    }
    body = _sent_body(allm.request([allm.user("hi")], max_tokens=5, options=options))
    assert body["inferenceConfig"] == {"stopSequences": ["x"], "topP": 0.5, "maxTokens": 5}
    assert body["additionalModelRequestFields"] == {"reasoning_config": {"type": "enabled"}}
    assert body["performanceConfig"] == {"latency": "optimized"}
    assert "region" not in json.dumps(body)


# -- answers ----------------------------------------------------------------------------------


def test_an_html_200_to_a_non_streaming_call_is_malformed() -> None:
    recorder = Recorder("html_200")
    response = allm.generate(engine(recorder), HI, streaming=False)
    assert response.error.reason == "malformed_response"


def test_an_error_body_with_a_200_is_the_error() -> None:
    recorder = Recorder()
    recorder.answers = [
        (
            200,
            {"content-type": "application/json"},
            b'{"message": "slow down", "__type": "ThrottlingException"}',
        )
    ] * 2
    streamed = allm.generate(engine(recorder), HI)
    assert streamed.error.reason == "rate_limited"
    whole = allm.generate(engine(recorder), HI, streaming=False)
    assert whole.error.reason == "rate_limited"


def test_a_429_then_success_is_retried_under_the_policy() -> None:
    recorder = Recorder()
    throttled = by_name("error_429_throttling")
    recorder.answers = [(429, {**throttled.headers, "retry-after": "0"}, throttled.response)]
    eng = allm.Engine(
        adapter=adapter(),
        model=MODEL,
        adapter_opts=recorder.opts(),
        retry=RetryPolicy(max_attempts=3, base_delay_ms=1, max_delay_ms=2, jitter_ms=0),
    )
    assert allm.generate(eng, HI).text == "Hello! How can I help?"
    assert len(recorder.seen) == 2
    assert recorder.seen[0].headers["authorization"] == recorder.seen[1].headers["authorization"]


def test_the_error_frame_kind_and_unknown_events() -> None:
    decoder = BedrockStreamDecoder("bedrock", "rid", MODEL)
    frame = message(
        {":message-type": "error", ":error-code": "InternalFailure", ":error-message": "boom"}, b""
    )
    from allm.adapters.eventstream import EventStreamDecoder

    framing = EventStreamDecoder()
    unknown = framing.feed(event("somethingNew", {"x": 1}))[0]
    events = decoder.feed(unknown) + decoder.feed(framing.feed(frame)[0])
    assert events[1].data[0] == "bedrock_event"
    assert events[-1].error.message == "boom"
    assert decoder.fail(allm.AdapterError("network_error", "late")) == []
    bad = framing.feed(
        message({":event-type": "contentBlockDelta", ":message-type": "event"}, b"nope")
    )[0]
    fresh = BedrockStreamDecoder("bedrock", "rid", MODEL)
    assert fresh.feed(bad)[-1].error.reason == "malformed_response"


def test_reasoning_redacted_and_odd_deltas_in_a_stream() -> None:
    from allm.adapters.eventstream import EventStreamDecoder

    framing = EventStreamDecoder()
    data = b"".join(
        [
            event(
                "contentBlockDelta",
                {
                    "contentBlockIndex": 0,
                    "delta": {"reasoningContent": {"redactedContent": "b3BhcXVl"}},
                },
            ),
            event("contentBlockStop", {"contentBlockIndex": 0}),
            event("contentBlockDelta", {"contentBlockIndex": 1, "delta": {"citation": {"x": 1}}}),
            event(
                "contentBlockDelta", {"contentBlockIndex": 9, "delta": {"toolUse": {"input": "{}"}}}
            ),
            event(
                "contentBlockStart",
                {"contentBlockIndex": 2, "start": {"toolUse": {"toolUseId": "t", "name": "n"}}},
            ),
            event(
                "contentBlockDelta",
                {"contentBlockIndex": 2, "delta": {"toolUse": {"input": "[1]"}}},
            ),
            event("contentBlockStop", {"contentBlockIndex": 2}),
            event("contentBlockStop", {"contentBlockIndex": 7}),
            event("messageStop", {"stopReason": "malformed_tool_use"}),
        ]
    )
    decoder = BedrockStreamDecoder("bedrock", "rid", MODEL)
    events = [e for frame in framing.feed(data) for e in decoder.feed(frame)] + decoder.finish()
    collector = allm.StreamCollector()
    collector.apply_all(events)
    response = collector.to_response()
    assert response.message.metadata["reasoning_blocks"][0]["id"] == "bedrock:redacted_reasoning"
    assert response.tool_calls[0].metadata == {
        "arguments_error": "tool arguments are not a JSON object"
    }
    assert response.finish_reason == "error"
    assert response.metadata["error"].reason == "malformed_response"


def test_error_classification() -> None:
    assert (
        error_type_of("ThrottlingException:http://internal.amazon.com/coral/")
        == "ThrottlingException"
    )
    assert error_type_of("com.amazon.coral.service#ValidationException") == "ValidationException"
    assert error_type_of(None) is None
    assert classify(429, None, "") == "rate_limited"
    assert classify(400, "ValidationException", "Input is too long") == "context_length_exceeded"
    assert classify(403, None, "") == "authentication_failed"
    assert classify(408, None, "") == "timeout"
    assert classify(502, None, "") == "provider_unavailable"
    assert classify(418, None, "") == "unknown"
    assert classify(None, "serviceUnavailableException", "") == "provider_unavailable"
    assert classify(None, None, "") == "provider_unavailable"
    assert classify(400, "ServiceQuotaExceededException", "") == "quota_exhausted"
    assert finish_reason_for(None, tool_calls=False) is None
    assert finish_reason_for("end_turn", tool_calls=True) == "tool_calls"
    assert finish_reason_for("something_new", tool_calls=False) == "other"
    assert finish_reason_for("content_filtered", tool_calls=False) == "content_filter"


def test_an_unreadable_error_body_is_malformed() -> None:
    recorder = Recorder()
    recorder.answers = [(502, {"content-type": "text/html"}, b"<html>bad gateway</html>")]
    response = allm.generate(engine(recorder), HI)
    assert response.error.reason == "malformed_response"
    assert response.error.status == 502


# -- laws -------------------------------------------------------------------------------------

_pieces = st.lists(st.text(min_size=1, max_size=8), min_size=1, max_size=6)


@settings(max_examples=25, deadline=None)
@given(_pieces, st.sampled_from(["end_turn", "max_tokens", "guardrail_intervened"]), st.booleans())
def test_generate_is_the_fold_of_stream_generate(pieces: list[str], stop: str, usage: bool) -> None:
    frames = [event("messageStart", {"role": "assistant"})]
    frames += [
        event("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": p}}) for p in pieces
    ]
    frames += [
        event("contentBlockStop", {"contentBlockIndex": 0}),
        event("messageStop", {"stopReason": stop}),
    ]
    if usage:
        frames.append(
            event("metadata", {"usage": {"inputTokens": 3, "outputTokens": 4, "totalTokens": 7}})
        )
    recorder = Recorder()
    recorder.answers = [
        (200, {"content-type": "application/vnd.amazon.eventstream"}, b"".join(frames))
    ] * 2
    eng = engine(recorder)
    folded = allm.stream_generate(eng, HI).collect()
    generated = allm.generate(eng, HI)
    assert generated.text == folded.text == "".join(pieces)
    assert generated.finish_reason == folded.finish_reason
    assert generated.usage == folded.usage
    assert allm.from_json(allm.to_json(generated)) == generated


def test_the_non_streaming_path_gives_the_streamed_response() -> None:
    for stem in ("text", "tool_call", "reasoning"):
        streamed = allm.generate(
            engine(Recorder(f"{stem}_stream")), by_name(f"{stem}_stream").build()
        )
        whole = allm.generate(
            engine(Recorder(f"{stem}_nonstream")),
            by_name(f"{stem}_nonstream").build(),
            streaming=False,
        )
        assert (whole.text, whole.tool_calls, whole.reasoning, whole.finish_reason) == (
            streamed.text,
            streamed.tool_calls,
            streamed.reasoning,
            streamed.finish_reason,
        )
        assert whole.usage.input_tokens == streamed.usage.input_tokens


def test_the_next_turn_sends_the_reasoning_back() -> None:
    first = allm.generate(engine(Recorder("reasoning_stream")), by_name("reasoning_stream").build())
    body = _sent_body(allm.request([allm.user("q"), first.message, allm.user("again")]))
    assert body["messages"][1]["content"][0] == {
        "reasoningContent": {
            "reasoningText": {
                "text": first.reasoning,
                "signature": "EqoBCkgIARABGAIiQL2signature==",
            }
        }
    }


def test_import_allm_does_not_import_botocore() -> None:
    code = (
        "import sys, allm, allm.providers; allm.providers.Bedrock; print('botocore' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_secrets_never_show(fixed_clock: None, caplog: pytest.LogCaptureFixture) -> None:
    import logging

    recorder = Recorder()
    echoed = SECRET_KEY + " " + SESSION_TOKEN
    recorder.answers = [
        (
            403,
            {"content-type": "application/json"},
            json.dumps({"message": f"bad {echoed}"}).encode(),
        )
    ]
    bedrock = adapter(aws_session_token=SESSION_TOKEN)
    with caplog.at_level(logging.DEBUG, logger="botocore"):
        response = allm.generate(engine(recorder, bedrock), HI)
    assert response.error.reason == "authentication_failed"
    texts = [response.error.message, allm.to_json(response), repr(bedrock)]
    texts += [record.getMessage() for record in caplog.records]
    for text in texts:
        assert SECRET_KEY not in text and SESSION_TOKEN not in text
