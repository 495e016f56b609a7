"""The Claude-model transcripts composed for Vertex (written by compose_vertex.py): a whole tool
call, thinking both ways, usage with cache reads, a length stop, errors in both of Vertex's shapes
(Google's front end and Anthropic's envelope), a whole body and an HTML page on a stream."""

from __future__ import annotations

import json
from typing import Any

from .compose_vertex import (
    ERRORS_DOC,
    GOOGLE_JSON,
    HTML,
    PROJECT,
    Case,
    expect,
    failure,
    request,
    usage,
)

CLAUDE_GLOBAL = f"https://aiplatform.googleapis.com/v1/{PROJECT}/global/publishers/anthropic/models"
CLAUDE_MODEL = "claude-sonnet-4-5@20250929"
CLAUDE_REPORTED = "claude-sonnet-4-5-20250929"
CLAUDE_SSE = {"content-type": "text/event-stream; charset=utf-8", "server": "Google Frontend"}
CLAUDE_JSON = {"content-type": "application/json", "server": "Google Frontend"}
USE_CLAUDE_DOC = (
    "https://cloud.google.com/vertex-ai/generative-ai/docs/partner-models/claude/use-claude"
)
CLAUDE_DOC = "https://docs.anthropic.com/en/api/claude-on-vertex-ai"
THINK_CLAUDE_DOC = "https://docs.anthropic.com/en/docs/build-with-claude/extended-thinking"
CLAUDE_ERRORS_DOC = "https://docs.anthropic.com/en/api/errors"
CLAUDE_THINKING = "1900 is divisible by 100 but not by 400, so it is not a leap year."
CLAUDE_SIGNATURE = "EqMCCkYICxgCKkBn7Vd2Qm5xJ0r3TqkzL1bD8uYwV4sPZo2cH9aXf6RtEyGJk0NiUm3Ll5QpAE="
WEATHER = {
    "type": "object",
    "properties": {"location": {"type": "string"}},
    "required": ["location"],
}


def claude_body(text: str, *, stream: bool, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "anthropic_version": "vertex-2023-10-16",
        "max_tokens": extra.pop("max_tokens", 1024),
        "messages": [{"role": "user", "content": text}],
    }
    if stream:
        body["stream"] = True
    body.update(extra)
    return body


def claude_url(stream: bool, host: str = CLAUDE_GLOBAL) -> str:
    return f"{host}/{CLAUDE_MODEL}:{'streamRawPredict' if stream else 'rawPredict'}"


def event(kind: str, data: dict[str, Any]) -> str:
    return f"event: {kind}\ndata: {json.dumps({'type': kind, **data}, separators=(',', ':'))}\n\n"


def message_start(msg_id: str, inp: int, *, read: int = 0, written: int = 0) -> str:
    message = {
        "id": msg_id,
        "type": "message",
        "role": "assistant",
        "model": CLAUDE_REPORTED,
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": {
            "input_tokens": inp,
            "cache_creation_input_tokens": written,
            "cache_read_input_tokens": read,
            "output_tokens": 1,
        },
    }
    return event("message_start", {"message": message})


def text_block(index: int, *pieces: str) -> str:
    out = event(
        "content_block_start", {"index": index, "content_block": {"type": "text", "text": ""}}
    )
    for piece in pieces:
        out += event(
            "content_block_delta",
            {"index": index, "delta": {"type": "text_delta", "text": piece}},
        )
    return out + event("content_block_stop", {"index": index})


def message_end(reason: str, output_tokens: int) -> str:
    delta = {"delta": {"stop_reason": reason, "stop_sequence": None}}
    end = event("message_delta", {**delta, "usage": {"output_tokens": output_tokens}})
    return end + event("message_stop", {})


def claude_message(
    msg_id: str, content: list[dict[str, Any]], reason: str, inp: int, out: int, **counts: int
) -> str:
    return json.dumps(
        {
            "id": msg_id,
            "type": "message",
            "role": "assistant",
            "model": CLAUDE_REPORTED,
            "content": content,
            "stop_reason": reason,
            "stop_sequence": None,
            "usage": {
                "input_tokens": inp,
                "cache_creation_input_tokens": counts.get("written", 0),
                "cache_read_input_tokens": counts.get("read", 0),
                "output_tokens": out,
            },
        },
        separators=(",", ":"),
    )


def claude_ok(name: str, stream: bool, notes: list[str], msg_id: str, **fields: Any) -> dict:
    return expect(
        "vertex-anthropic",
        name,
        stream,
        notes,
        headers=dict(CLAUDE_SSE if stream else CLAUDE_JSON),
        response_id=msg_id,
        model=CLAUDE_REPORTED,
        **fields,
    )


def claude_cases() -> dict[str, Case]:
    out: dict[str, Case] = {}
    east5 = CLAUDE_GLOBAL.replace("https://", "https://us-east5-").replace("global", "us-east5")
    tool = {
        "name": "get_weather",
        "description": "Get the current weather for a city.",
        "input_schema": WEATHER,
    }
    use = {
        "type": "tool_use",
        "id": "toolu_vrtx_01Kp4dFe5TgW",
        "name": "get_weather",
        "input": {"location": "Lisbon, Portugal"},
    }
    call = {
        "id": "toolu_vrtx_01Kp4dFe5TgW",
        "name": "get_weather",
        "arguments": {"location": "Lisbon, Portugal"},
        "arguments_json": None,
    }
    out["tool_use_nonstream"] = (
        request(
            claude_url(False, east5),
            claude_body("Weather in Lisbon?", stream=False, tools=[tool]),
        ),
        claude_message("msg_vrtx_01Tq2wEr4TyU", [use], "tool_use", 402, 41),
        claude_ok(
            "tool_use_nonstream",
            False,
            [f"{USE_CLAUDE_DOC}: rawPredict on a regional endpoint answers one Messages body"],
            "msg_vrtx_01Tq2wEr4TyU",
            tool_calls=[call],
            finish_reason="tool_calls",
            raw_finish_reason="tool_use",
            usage=usage(402, 41, 443, cached=0, written=0),
        ),
    )
    thinking_params = {"max_tokens": 2048, "thinking": {"type": "enabled", "budget_tokens": 1024}}
    half = len(CLAUDE_THINKING) // 2
    stream = message_start("msg_vrtx_01Th1nkVrtxAbCd", 43)
    stream += event(
        "content_block_start",
        {"index": 0, "content_block": {"type": "thinking", "thinking": "", "signature": ""}},
    )
    for piece in (CLAUDE_THINKING[:half], CLAUDE_THINKING[half:]):
        stream += event(
            "content_block_delta",
            {"index": 0, "delta": {"type": "thinking_delta", "thinking": piece}},
        )
    stream += event(
        "content_block_delta",
        {"index": 0, "delta": {"type": "signature_delta", "signature": CLAUDE_SIGNATURE}},
    )
    stream += event("content_block_stop", {"index": 0})
    stream += text_block(1, "No: 1900 ", "was not a leap year.") + message_end("end_turn", 87)
    thinking_fields = {
        "output_text": "No: 1900 was not a leap year.",
        "reasoning_text": CLAUDE_THINKING,
        "finish_reason": "stop",
        "raw_finish_reason": "end_turn",
        "usage": usage(43, 87, 130, cached=0, written=0),
    }
    thinking_notes = [
        f"{CLAUDE_DOC}: the thinking parameter as on the Messages API;"
        f" {THINK_CLAUDE_DOC}: thinking blocks with thinking_delta and signature_delta."
    ]
    out["thinking_stream"] = (
        request(
            claude_url(True),
            claude_body("Was 1900 a leap year?", stream=True, **dict(thinking_params)),
        ),
        stream,
        claude_ok(
            "thinking_stream", True, thinking_notes, "msg_vrtx_01Th1nkVrtxAbCd", **thinking_fields
        ),
    )
    blocks = [
        {"type": "thinking", "thinking": CLAUDE_THINKING, "signature": CLAUDE_SIGNATURE},
        {"type": "text", "text": "No: 1900 was not a leap year."},
    ]
    out["thinking_nonstream"] = (
        request(
            claude_url(False),
            claude_body("Was 1900 a leap year?", stream=False, **dict(thinking_params)),
        ),
        claude_message("msg_vrtx_01Th1nkVrtxWhole", blocks, "end_turn", 43, 87),
        claude_ok(
            "thinking_nonstream",
            False,
            thinking_notes,
            "msg_vrtx_01Th1nkVrtxWhole",
            **thinking_fields,
        ),
    )
    out["cached_usage_nonstream"] = (
        request(claude_url(False), claude_body("Summarise the guide.", stream=False)),
        claude_message(
            "msg_vrtx_01CacheRd9Xz",
            [{"type": "text", "text": "Keep it short."}],
            "end_turn",
            18,
            5,
            read=1200,
            written=300,
        ),
        claude_ok(
            "cached_usage_nonstream",
            False,
            [
                f"{CLAUDE_DOC}: usage as on the Messages API; input_tokens counts neither cache"
                " reads nor writes, so allm's input_tokens is 18 + 1200 + 300."
            ],
            "msg_vrtx_01CacheRd9Xz",
            output_text="Keep it short.",
            finish_reason="stop",
            raw_finish_reason="end_turn",
            usage=usage(1518, 5, 1523, cached=1200, written=300),
        ),
    )
    out["max_tokens_stream"] = (
        request(claude_url(True), claude_body("Tell me a story.", stream=True, max_tokens=5)),
        message_start("msg_vrtx_01MaxTok7Qw", 12)
        + text_block(0, "Once upon", " a time")
        + message_end("max_tokens", 5),
        claude_ok(
            "max_tokens_stream",
            True,
            [f"{CLAUDE_DOC}: stop_reason max_tokens in message_delta: length."],
            "msg_vrtx_01MaxTok7Qw",
            output_text="Once upon a time",
            finish_reason="length",
            raw_finish_reason="max_tokens",
            usage=usage(12, 5, 17, cached=0, written=0),
        ),
    )
    quota = (
        "Quota exceeded for aiplatform.googleapis.com/online_prediction_input_tokens_per_minute"
        "_per_base_model with base model: anthropic-claude-sonnet-4-5. Please submit a quota"
        " increase request. https://cloud.google.com/vertex-ai/docs/generative-ai/quotas-genai."
    )
    out["error_429_quota_nonstream"] = (
        request(claude_url(False), claude_body("Hello", stream=False)),
        json.dumps(
            {"error": {"code": 429, "message": quota, "status": "RESOURCE_EXHAUSTED"}}, indent=2
        ),
        expect(
            "vertex-anthropic",
            "error_429_quota_nonstream",
            False,
            [
                f"{USE_CLAUDE_DOC}: Vertex's front end refuses a rawPredict over the per-minute"
                " quota in the google.rpc.Status shape, not Anthropic's envelope."
            ],
            status=429,
            headers=dict(GOOGLE_JSON),
            finish_reason="error",
            error=failure("rate_limit", 429, "RESOURCE_EXHAUSTED", quota),
        ),
    )
    expired = (
        "Request had invalid authentication credentials. Expected OAuth 2 access token, login"
        " cookie or other valid authentication credential."
    )
    out["error_401_unauthenticated_nonstream"] = (
        request(claude_url(False), claude_body("Hello", stream=False)),
        json.dumps(
            {"error": {"code": 401, "message": expired, "status": "UNAUTHENTICATED"}}, indent=2
        ),
        expect(
            "vertex-anthropic",
            "error_401_unauthenticated_nonstream",
            False,
            [
                f"{ERRORS_DOC}: an expired access token is 401 UNAUTHENTICATED from Google's front end."
            ],
            status=401,
            headers=dict(GOOGLE_JSON),
            finish_reason="error",
            error=failure("authentication", 401, "UNAUTHENTICATED", expired),
        ),
    )
    too_many = (
        "max_tokens: 1000000 > 64000, which is the maximum allowed number of output tokens for"
        " claude-sonnet-4-5-20250929"
    )
    out["error_400_invalid_request"] = (
        request(claude_url(True), claude_body("Hello", stream=True, max_tokens=1000000)),
        json.dumps(
            {"type": "error", "error": {"type": "invalid_request_error", "message": too_many}},
            separators=(",", ":"),
        ),
        expect(
            "vertex-anthropic",
            "error_400_invalid_request",
            True,
            [
                f"{CLAUDE_ERRORS_DOC}: the model's own refusal keeps Anthropic's envelope"
                " {type: error, error: {type, message}} on Vertex."
            ],
            status=400,
            headers=dict(CLAUDE_JSON),
            finish_reason="error",
            error=failure("invalid_request", 400, "invalid_request_error", too_many),
        ),
    )
    whole = claude_message(
        "msg_vrtx_01Wh0leJs0n", [{"type": "text", "text": "Canberra."}], "end_turn", 15, 6
    )
    json_to_stream = claude_ok(
        "json_to_stream",
        True,
        [f"{CLAUDE_DOC}: a whole Messages body served to streamRawPredict is read, not refused."],
        "msg_vrtx_01Wh0leJs0n",
        output_text="Canberra.",
        finish_reason="stop",
        raw_finish_reason="end_turn",
        usage=usage(15, 6, 21, cached=0, written=0),
    )
    json_to_stream["http"]["headers"] = dict(CLAUDE_JSON)
    out["json_to_stream"] = (
        request(claude_url(True), claude_body("Capital of Australia?", stream=True)),
        whole,
        json_to_stream,
    )
    out["html_200"] = (
        request(claude_url(True), claude_body("Hello", stream=True)),
        HTML,
        expect(
            "vertex-anthropic",
            "html_200",
            True,
            [f"{USE_CLAUDE_DOC}: a proxy's HTML page with status 200 is not the wire."],
            headers={"content-type": "text/html; charset=utf-8"},
            finish_reason="error",
            error={"kind": "malformed_response"},
        ),
    )
    return out
