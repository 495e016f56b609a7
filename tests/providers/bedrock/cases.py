"""The Bedrock transcripts (tests/fixtures/wire/bedrock), built from the documented event shapes
with the test encoder, and the allm request each one answers.

Run ``python -m tests.providers.bedrock.cases`` to write the files again; a test checks that the
files on disk are what this module builds. Event and body shapes:
https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_ConverseStream.html and
https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_Converse.html; errors:
https://docs.aws.amazon.com/bedrock/latest/APIReference/CommonErrors.html.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import allm

from .eventstream import event, exception

MODEL = "anthropic.claude-3-5-sonnet-20241022-v2:0"
HOST = "https://bedrock-runtime.us-east-1.amazonaws.com"
DIRECTORY = Path(__file__).resolve().parents[2] / "fixtures" / "wire" / "bedrock"
STREAM_DOC = (
    "https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_ConverseStream.html"
)
WHOLE_DOC = "https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_Converse.html"
ERRORS_DOC = "https://docs.aws.amazon.com/bedrock/latest/APIReference/CommonErrors.html"
FRAMING_DOC = "https://smithy.io/2.0/aws/amazon-eventstream.html"
STREAM_HEADERS = {
    "content-type": "application/vnd.amazon.eventstream",
    "x-amzn-requestid": "6c1d3b1e-0000-4000-8000-000000000001",
}
JSON_HEADERS = {
    "content-type": "application/json",
    "x-amzn-requestid": "6c1d3b1e-0000-4000-8000-000000000002",
}
WEATHER = {
    "type": "object",
    "properties": {"city": {"type": "string"}},
    "required": ["city"],
}


def _question() -> allm.Request:
    return allm.request([allm.system("Be brief."), allm.user("Say hello.")], max_tokens=200)


def _tool_question() -> allm.Request:
    tool = allm.Tool("get_weather", "The weather in a city.", WEATHER)
    return allm.request(
        [allm.user("Weather in Paris?")], tools=[tool], tool_choice="auto", max_tokens=300
    )


def _reasoning_question() -> allm.Request:
    return allm.request(
        [allm.user("What is 17 * 23?")],
        max_tokens=2000,
        options={"thinking": {"type": "enabled", "budget_tokens": 1024}},
    )


def _cached_question() -> allm.Request:
    rules = allm.Message(allm.Role.SYSTEM, (allm.TextPart("Be brief."), allm.CachePoint()))
    return allm.request([rules, allm.user("Say hello.")], max_tokens=200)


_BODY_CACHED = {
    "messages": [{"role": "user", "content": [{"text": "Say hello."}]}],
    "system": [{"text": "Be brief."}, {"cachePoint": {"type": "default"}}],
    "inferenceConfig": {"maxTokens": 200},
}
_BODY_QUESTION = {
    "messages": [{"role": "user", "content": [{"text": "Say hello."}]}],
    "system": [{"text": "Be brief."}],
    "inferenceConfig": {"maxTokens": 200},
}
_BODY_TOOLS = {
    "messages": [{"role": "user", "content": [{"text": "Weather in Paris?"}]}],
    "inferenceConfig": {"maxTokens": 300},
    "toolConfig": {
        "tools": [
            {
                "toolSpec": {
                    "name": "get_weather",
                    "description": "The weather in a city.",
                    "inputSchema": {"json": WEATHER},
                }
            }
        ],
        "toolChoice": {"auto": {}},
    },
}
_BODY_REASONING = {
    "messages": [{"role": "user", "content": [{"text": "What is 17 * 23?"}]}],
    "inferenceConfig": {"maxTokens": 2000},
    "additionalModelRequestFields": {"thinking": {"type": "enabled", "budget_tokens": 1024}},
}


@dataclass
class Transcript:
    name: str
    stream: bool
    build: Callable[[], allm.Request]
    body: dict[str, Any]
    response: bytes
    expect: dict[str, Any]
    status: int = 200
    headers: dict[str, str] = field(default_factory=lambda: dict(STREAM_HEADERS))
    notes: list[str] = field(default_factory=list)


def _usage(inp: int, out: int, *, read: int | None = None, write: int | None = None) -> dict:
    usage: dict[str, Any] = {"inputTokens": inp, "outputTokens": out}
    usage["totalTokens"] = inp + out + (read or 0) + (write or 0)
    if read is not None:
        usage["cacheReadInputTokens"] = read
    if write is not None:
        usage["cacheWriteInputTokens"] = write
    return usage


def _expected_usage(inp: int, out: int, read: int | None = None, write: int | None = None) -> dict:
    total = inp + out + (read or 0) + (write or 0)
    return {
        "input_tokens": inp + (read or 0) + (write or 0),
        "output_tokens": out,
        "total_tokens": total,
        "cached_tokens": read,
        "cache_write_tokens": write,
        "reasoning_tokens": None,
    }


def _expect(
    text: str,
    finish: str,
    raw: str | None,
    usage: dict | None,
    *,
    calls: list[dict] | None = None,
    reasoning: str | None = None,
    error: dict | None = None,
) -> dict[str, Any]:
    return {
        "response_id": None,
        "model": MODEL,
        "request_id": None,
        "output_text": text,
        "reasoning_text": reasoning,
        "tool_calls": calls or [],
        "finish_reason": finish,
        "raw_finish_reason": raw,
        "usage": usage,
        "error": error,
    }


def _text_events(*pieces: str) -> bytes:
    frames = [event("messageStart", {"role": "assistant"})]
    frames += [
        event("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": p}}) for p in pieces
    ]
    frames.append(event("contentBlockStop", {"contentBlockIndex": 0}))
    return b"".join(frames)


def _stop(reason: str) -> bytes:
    return event("messageStop", {"stopReason": reason})


def _metadata(usage: dict) -> bytes:
    return event("metadata", {"usage": usage, "metrics": {"latencyMs": 412}})


def _whole(content: list[dict], reason: str, usage: dict) -> bytes:
    body = {
        "output": {"message": {"role": "assistant", "content": content}},
        "stopReason": reason,
        "usage": usage,
        "metrics": {"latencyMs": 398},
    }
    return json.dumps(body).encode()


_CALL = {"id": "tooluse_Xk3vQ1", "name": "get_weather", "arguments": {"city": "Paris"}}
_CALL_JSON = '{"city": "Paris"}'
_THINKING = "17 * 23 = 17 * 20 + 17 * 3 = 340 + 51 = 391."
_SIGNATURE = "EqoBCkgIARABGAIiQL2signature=="


def _tool_stream() -> bytes:
    return b"".join(
        [
            event("messageStart", {"role": "assistant"}),
            event("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": "Checking."}}),
            event("contentBlockStop", {"contentBlockIndex": 0}),
            event(
                "contentBlockStart",
                {
                    "contentBlockIndex": 1,
                    "start": {"toolUse": {"toolUseId": _CALL["id"], "name": "get_weather"}},
                },
            ),
            event(
                "contentBlockDelta",
                {"contentBlockIndex": 1, "delta": {"toolUse": {"input": '{"city"'}}},
            ),
            event(
                "contentBlockDelta",
                {"contentBlockIndex": 1, "delta": {"toolUse": {"input": ': "Paris"}'}}},
            ),
            event("contentBlockStop", {"contentBlockIndex": 1}),
            _stop("tool_use"),
            _metadata(_usage(380, 55)),
        ]
    )


def _reasoning_stream() -> bytes:
    half = len(_THINKING) // 2
    delta = "contentBlockDelta"
    return b"".join(
        [
            event("messageStart", {"role": "assistant"}),
            event(
                delta,
                {"contentBlockIndex": 0, "delta": {"reasoningContent": {"text": _THINKING[:half]}}},
            ),
            event(
                delta,
                {"contentBlockIndex": 0, "delta": {"reasoningContent": {"text": _THINKING[half:]}}},
            ),
            event(
                delta,
                {"contentBlockIndex": 0, "delta": {"reasoningContent": {"signature": _SIGNATURE}}},
            ),
            event("contentBlockStop", {"contentBlockIndex": 0}),
            event(delta, {"contentBlockIndex": 1, "delta": {"text": "391"}}),
            event("contentBlockStop", {"contentBlockIndex": 1}),
            _stop("end_turn"),
            _metadata(_usage(45, 120)),
        ]
    )


def _corrupt(frames: bytes) -> bytes:
    return frames[:-1] + bytes([frames[-1] ^ 0xFF])


def _error_body(text: str) -> bytes:
    return json.dumps({"message": text}).encode()


def _error_headers(kind: str, **extra: str) -> dict[str, str]:
    return {
        "content-type": "application/json",
        "x-amzn-requestid": "6c1d3b1e-0000-4000-8000-00000000000e",
        "x-amzn-errortype": f"{kind}:http://internal.amazon.com/coral/com.amazon.bedrock/",
        **extra,
    }


def transcripts() -> list[Transcript]:
    """Every Bedrock transcript."""
    hello = _text_events("Hel", "lo!", " How can I help?")
    text = "Hello! How can I help?"
    usage = _usage(18, 9)
    usage_expect = _expected_usage(18, 9)
    throttled = {"kind": "rate_limit", "http_status": 429, "retry_after_seconds": None}
    return [
        Transcript(
            "text_stream", True, _question, _BODY_QUESTION,
            hello + _stop("end_turn") + _metadata(usage),
            _expect(text, "stop", "end_turn", usage_expect),
        ),
        Transcript(
            "text_nonstream", False, _question, _BODY_QUESTION,
            _whole([{"text": text}], "end_turn", usage),
            _expect(text, "stop", "end_turn", usage_expect), headers=dict(JSON_HEADERS),
        ),
        Transcript(
            "tool_call_stream", True, _tool_question, _BODY_TOOLS, _tool_stream(),
            _expect("Checking.", "tool_calls", "tool_use", _expected_usage(380, 55),
                    calls=[{**_CALL, "arguments_json": _CALL_JSON}]),
        ),
        Transcript(
            "tool_call_nonstream", False, _tool_question, _BODY_TOOLS,
            _whole(
                [
                    {"text": "Checking."},
                    {"toolUse": {"toolUseId": _CALL["id"], "name": "get_weather", "input": {"city": "Paris"}}},
                ],
                "tool_use", _usage(380, 55),
            ),
            _expect("Checking.", "tool_calls", "tool_use", _expected_usage(380, 55),
                    calls=[{**_CALL, "arguments_json": _CALL_JSON}]),
            headers=dict(JSON_HEADERS),
        ),
        Transcript(
            "reasoning_stream", True, _reasoning_question, _BODY_REASONING, _reasoning_stream(),
            _expect("391", "stop", "end_turn", _expected_usage(45, 120), reasoning=_THINKING),
        ),
        Transcript(
            "reasoning_nonstream", False, _reasoning_question, _BODY_REASONING,
            _whole(
                [
                    {"reasoningContent": {"reasoningText": {"text": _THINKING, "signature": _SIGNATURE}}},
                    {"text": "391"},
                ],
                "end_turn", _usage(45, 120),
            ),
            _expect("391", "stop", "end_turn", _expected_usage(45, 120), reasoning=_THINKING),
            headers=dict(JSON_HEADERS),
        ),
        Transcript(
            "cached_usage_stream", True, _question, _BODY_QUESTION,
            hello + _stop("end_turn") + _metadata(_usage(6, 9, read=1200, write=300)),
            _expect(text, "stop", "end_turn", _expected_usage(6, 9, read=1200, write=300)),
            notes=["inputTokens excludes cache reads and writes; input_tokens adds them."],
        ),
        Transcript(
            "cache_point_stream", True, _cached_question, _BODY_CACHED,
            hello + _stop("end_turn") + _metadata(_usage(6, 9, read=1200, write=300)),
            _expect(text, "stop", "end_turn", _expected_usage(6, 9, read=1200, write=300)),
            notes=["A CachePoint in the system message is a cachePoint block after its text."],
        ),
        Transcript(
            "cache_point_nonstream", False, _cached_question, _BODY_CACHED,
            _whole([{"text": text}], "end_turn", _usage(6, 9, read=1200, write=300)),
            _expect(text, "stop", "end_turn", _expected_usage(6, 9, read=1200, write=300)),
            headers=dict(JSON_HEADERS),
            notes=["Converse's usage has cacheReadInputTokens and cacheWriteInputTokens."],
        ),
        Transcript(
            "max_tokens_stream", True, _question, _BODY_QUESTION,
            _text_events("Hel", "lo") + _stop("max_tokens") + _metadata(_usage(18, 200)),
            _expect("Hello", "length", "max_tokens", _expected_usage(18, 200)),
        ),
        Transcript(
            "guardrail_stream", True, _question, _BODY_QUESTION,
            _text_events("Sorry, ") + _stop("guardrail_intervened") + _metadata(_usage(18, 2)),
            _expect("Sorry, ", "content_filter", "guardrail_intervened", _expected_usage(18, 2)),
        ),
        Transcript(
            "stream_without_metadata", True, _question, _BODY_QUESTION,
            hello + _stop("end_turn"),
            _expect(text, "stop", "end_turn", None),
            notes=["messageStop then the end of the body: a complete answer without usage."],
        ),
        Transcript(
            "error_429_throttling", True, _question, _BODY_QUESTION,
            _error_body("Too many requests, please wait before trying again."),
            _expect("", "error", None, None, error=throttled),
            status=429, headers=_error_headers("ThrottlingException"),
        ),
        Transcript(
            "error_429_throttling_nonstream", False, _question, _BODY_QUESTION,
            _error_body("Too many requests, please wait before trying again."),
            _expect("", "error", None, None, error=throttled),
            status=429, headers=_error_headers("ThrottlingException"),
        ),
        Transcript(
            "error_400_validation", True, _question, _BODY_QUESTION,
            _error_body("The provided model identifier is invalid."),
            _expect("", "error", None, None, error={"kind": "invalid_request", "http_status": 400}),
            status=400, headers=_error_headers("ValidationException"),
        ),
        Transcript(
            "error_400_context_length", False, _question, _BODY_QUESTION,
            _error_body("Input is too long for requested model."),
            _expect("", "error", None, None, error={"kind": "invalid_request", "http_status": 400}),
            status=400, headers=_error_headers("ValidationException"),
        ),
        Transcript(
            "error_503_service_unavailable", True, _question, _BODY_QUESTION,
            _error_body("Bedrock is unable to process your request."),
            _expect("", "error", None, None, error={"kind": "server_error", "http_status": 503}),
            status=503, headers=_error_headers("ServiceUnavailableException"),
        ),
        Transcript(
            "stream_exception_throttling", True, _question, _BODY_QUESTION,
            _text_events("Hel", "lo") + exception("throttlingException", "Too many tokens, slow down."),
            _expect("Hello", "error", None, None, error={"kind": "rate_limit"}),
            notes=["An exception frame after some text: the text stays, the stream ends in error."],
        ),
        Transcript(
            "stream_exception_model_error", True, _question, _BODY_QUESTION,
            _text_events("Hel") + exception("modelStreamErrorException", "The model stream failed."),
            _expect("Hel", "error", None, None, error={"kind": "server_error"}),
        ),
        Transcript(
            "stream_truncated", True, _question, _BODY_QUESTION,
            hello[: len(hello) - 7],
            _expect(text, "error", None, None, error={"kind": "stream_interrupted"}),
            notes=["The body is cut inside the last frame, before messageStop."],
        ),
        Transcript(
            "stream_crc_mismatch", True, _question, _BODY_QUESTION,
            _corrupt(_text_events("Hel", "lo")) + _stop("end_turn"),
            _expect("Hello", "error", None, None, error={"kind": "malformed_response"}),
            notes=["The last byte of the contentBlockStop frame's CRC is changed."],
        ),
        Transcript(
            "json_body_to_stream", True, _question, _BODY_QUESTION,
            _whole([{"text": text}], "end_turn", usage),
            _expect(text, "stop", "end_turn", usage_expect), headers=dict(JSON_HEADERS),
            notes=["A whole Converse body served to a streaming request is read, not refused."],
        ),
        Transcript(
            "html_200", True, _question, _BODY_QUESTION,
            b"<html><body><h1>Gateway</h1></body></html>",
            _expect("", "error", None, None, error={"kind": "malformed_response"}),
            headers={"content-type": "text/html"},
        ),
    ]  # fmt: skip


def files(transcript: Transcript) -> dict[str, bytes]:
    """The three files of one transcript."""
    action = "converse-stream" if transcript.stream else "converse"
    request = {
        "method": "POST",
        "url": f"{HOST}/model/{MODEL.replace(':', '%3A')}/{action}",
        "headers": {"authorization": "AWS4-HMAC-SHA256 ${SIGNATURE}"},
        "body": transcript.body,
    }
    expect = {
        "case": transcript.name,
        "provider": "bedrock",
        "stream": transcript.stream,
        "http": {"status": transcript.status, "headers": transcript.headers},
        **transcript.expect,
        "notes": [_source(transcript), *transcript.notes],
    }
    return {
        f"{transcript.name}.request.json": (json.dumps(request, indent=2) + "\n").encode(),
        f"{transcript.name}.response": transcript.response,
        f"{transcript.name}.expect.json": (json.dumps(expect, indent=2) + "\n").encode(),
    }


def _source(transcript: Transcript) -> str:
    """The note naming the documentation a transcript follows."""
    docs = [STREAM_DOC if transcript.stream else WHOLE_DOC]
    if transcript.status >= 400:
        docs.append(ERRORS_DOC)
    if transcript.headers.get("content-type") == STREAM_HEADERS["content-type"]:
        docs.append(FRAMING_DOC)
    return (
        "Composed by tests/providers/bedrock/cases.py from "
        + ", ".join(docs)
        + "; not recorded from a live service."
    )


def by_name(name: str) -> Transcript:
    return next(t for t in transcripts() if t.name == name)


def write() -> None:
    DIRECTORY.mkdir(parents=True, exist_ok=True)
    for transcript in transcripts():
        for filename, data in files(transcript).items():
            (DIRECTORY / filename).write_bytes(data)


if __name__ == "__main__":
    write()
