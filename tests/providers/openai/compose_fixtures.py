"""Composes this project's own OpenAI wire transcripts (tests/fixtures/wire/openai-chat and
openai-responses) from the formats documented in FORMATS.md §1, §2 and §5, with the evidence
named in SOURCES.md. Run ``python tests/providers/openai/compose_fixtures.py`` to rewrite them.

Every case is written as the three files of INDEX.md: ``<case>.request.json``, the raw
``<case>.response`` body and ``<case>.expect.json``. Expectations are written here by hand from
the data each case is built from, never by running the adapter. Ids, signatures, timestamps and
token counts are realistic but fake. Cases beyond the origin API's observed framing say
SYNTHETIC in their notes.
"""

from __future__ import annotations

import hashlib
import json
import random
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2] / "fixtures" / "wire"
CHAT_URL = "https://api.openai.com/v1/chat/completions"
RESPONSES_URL = "https://api.openai.com/v1/responses"
AUTH = {"Authorization": "Bearer ${OPENAI_API_KEY}", "Content-Type": "application/json"}
SSE = "text/event-stream; charset=utf-8"
JSON = "application/json"
NULL: Any = None


def compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def pretty(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False)


def hexid(seed: str, size: int = 32) -> str:
    return hashlib.sha256(seed.encode()).hexdigest()[:size]


def alnum(seed: str, size: int) -> str:
    rng = random.Random(seed)
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    return "".join(rng.choice(letters) for _ in range(size))


class Obfuscation:
    """The random ``obfuscation`` pad both endpoints add to deltas."""

    def __init__(self, seed: str) -> None:
        self.rng = random.Random(seed)

    def __call__(self) -> str:
        letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
        return "".join(self.rng.choice(letters) for _ in range(self.rng.randint(0, 15)))


def headers(case: str, content_type: str, **extra: str) -> dict[str, str]:
    found = {
        "content-type": content_type,
        "x-request-id": f"req_{hexid(case)}",
        "openai-organization": "acme-labs-7k2pq",
        "openai-processing-ms": str(100 + int(hexid(case, 4), 16) % 500),
        "openai-version": "2020-10-01",
    }
    found.update(extra)
    return found


def write(
    directory: str,
    case: str,
    *,
    request: dict[str, Any],
    body: bytes,
    expect: dict[str, Any],
) -> None:
    base = ROOT / directory
    base.mkdir(parents=True, exist_ok=True)
    (base / f"{case}.request.json").write_text(pretty(request) + "\n")
    (base / f"{case}.response").write_bytes(body)
    full = {"case": case, "provider": directory}
    full.update(expect)
    (base / f"{case}.expect.json").write_text(pretty(full) + "\n")


def expectation(
    *,
    stream: bool,
    status: int,
    hdrs: dict[str, str],
    response_id: str | None,
    model: str | None,
    output_text: str = "",
    reasoning_text: str | None = None,
    refusal: str | None = None,
    tool_calls: list[dict[str, Any]] | None = None,
    finish_reason: str,
    raw_finish_reason: str | None,
    usage: dict[str, Any] | None,
    error: dict[str, Any] | None = None,
    notes: list[str],
    boundaries: list[int] | None = None,
    extras: dict[str, Any] | None = None,
) -> dict[str, Any]:
    found: dict[str, Any] = {"stream": stream, "http": {"status": status, "headers": hdrs}}
    if boundaries is not None:
        found["transport"] = {"chunk_boundaries": boundaries}
    found.update(
        {
            "response_id": response_id,
            "model": model,
            "request_id": hdrs.get("x-request-id"),
            "output_text": output_text,
            "reasoning_text": reasoning_text,
            "refusal": refusal,
            "tool_calls": tool_calls or [],
            "finish_reason": finish_reason,
            "raw_finish_reason": raw_finish_reason,
            "usage": usage,
            "error": error,
        }
    )
    found.update(extras or {})
    found["notes"] = notes
    return found


def usage_expect(
    input_tokens: int,
    output_tokens: int,
    total: int,
    cached: int | None,
    cache_write: int | None,
    reasoning: int | None,
) -> dict[str, Any]:
    return {
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "total_tokens": total,
        "cached_tokens": cached,
        "cache_write_tokens": cache_write,
        "reasoning_tokens": reasoning,
    }


def error_expect(
    kind: str,
    status: int,
    etype: str | None,
    code: str | None,
    message: str,
    retryable: bool,
    request_id: str | None,
    *,
    retry_after: float | None = None,
    partial: bool = False,
) -> dict[str, Any]:
    return {
        "kind": kind,
        "http_status": status,
        "type": etype,
        "code": code,
        "message": message,
        "retryable": retryable,
        "retry_after_seconds": retry_after,
        "request_id": request_id,
        "partial_output": partial,
    }


def utf8_cuts(body: bytes, needles: list[str]) -> list[int]:
    """Offsets one byte into the first occurrence (after the headers of the stream) of each
    multi-byte character: every cut falls inside a UTF-8 sequence."""
    cuts = []
    for needle in needles:
        encoded = needle.encode()
        assert len(encoded) > 1, needle
        position = body.index(encoded)
        cuts.append(position + 1)
    return sorted(cuts)


# =================================================================================================
# Chat Completions
# =================================================================================================

FP = "fp_560af6e559"


class Chat:
    """Builds ``chat.completion.chunk`` lines in the live key order (FORMATS §1)."""

    def __init__(
        self,
        case: str,
        model: str,
        *,
        created: int,
        fingerprint: str | None = FP,
        logprobs: bool = True,
        usage_first: bool = False,
        obfuscation: bool = True,
        service_tier: bool = True,
    ) -> None:
        self.service_tier = service_tier
        self.id = "chatcmpl-" + alnum(case, 29)
        self.model = model
        self.created = created
        self.fingerprint = fingerprint
        self.logprobs = logprobs
        self.usage_first = usage_first
        self.obfuscation = Obfuscation(case) if obfuscation else None
        self.lines: list[str] = []

    def chunk(
        self,
        delta: dict[str, Any] | None,
        finish: str | None = None,
        usage: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        head: dict[str, Any] = {
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
        }
        if self.service_tier:
            head["service_tier"] = "default"
        head["system_fingerprint"] = self.fingerprint
        choices: list[Any] = []
        if delta is not None:
            choice: dict[str, Any] = {"index": 0, "delta": delta}
            if self.logprobs:
                choice["logprobs"] = None
            choice["finish_reason"] = finish
            choices.append(choice)
        if self.usage_first:
            head["usage"] = usage
            head["choices"] = choices
        else:
            head["choices"] = choices
            head["usage"] = usage
        if self.obfuscation is not None:
            head["obfuscation"] = self.obfuscation()
        return head

    def add(self, payload: Any) -> None:
        self.lines.append(compact(payload) if not isinstance(payload, str) else payload)

    def body(self, *, done: bool = True, eol: str = "\n") -> bytes:
        out = "".join(f"data: {line}{eol}{eol}" for line in self.lines)
        if done:
            out += f"data: [DONE]{eol}{eol}"
        return out.encode()


def chat_usage(
    prompt: int,
    completion: int,
    *,
    cached: int = 0,
    reasoning: int = 0,
    cache_write: int | None = None,
) -> dict[str, Any]:
    prompt_details: dict[str, Any] = {"cached_tokens": cached, "audio_tokens": 0}
    if cache_write is not None:
        prompt_details["cache_write_tokens"] = cache_write
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": prompt_details,
        "completion_tokens_details": {
            "reasoning_tokens": reasoning,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def chat_request(body: dict[str, Any], url: str = CHAT_URL, auth: bool = True) -> dict[str, Any]:
    return {
        "method": "POST",
        "url": url,
        "headers": AUTH if auth else {"Content-Type": "application/json"},
        "body": body,
    }


WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather for a city.",
        "parameters": {
            "type": "object",
            "properties": {
                "location": {"type": "string", "description": "City and country"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            },
            "required": ["location", "unit"],
            "additionalProperties": False,
        },
        "strict": True,
    },
}
TIME_TOOL = {
    "type": "function",
    "function": {
        "name": "get_local_time",
        "description": "Get the local time in a city.",
        "parameters": {
            "type": "object",
            "properties": {"location": {"type": "string"}},
            "required": ["location"],
            "additionalProperties": False,
        },
        "strict": True,
    },
}


def text_chunks(chat: Chat, pieces: list[str], *, first_content: Any = "") -> None:
    chat.add(chat.chunk({"role": "assistant", "content": first_content, "refusal": None}))
    for piece in pieces:
        chat.add(chat.chunk({"content": piece}))


def chat_cases() -> None:
    d = "openai-chat"

    # -- parallel tool calls ----------------------------------------------------------------------
    case = "parallel_tool_calls_stream"
    chat = Chat(case, "gpt-4o-mini-2024-07-18", created=1785402011, usage_first=True)
    weather = [
        '{"',
        "location",
        '":"',
        "Tokyo",
        ",",
        " Japan",
        '","',
        "unit",
        '":"',
        "c",
        "elsius",
        '"}',
    ]
    clock = ['{"', "location", '":"', "Tokyo", ",", " Japan", '"}']
    first_id, second_id = "call_" + alnum("p1", 24), "call_" + alnum("p2", 24)
    chat.add(
        chat.chunk(
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "index": 0,
                        "id": first_id,
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": ""},
                    }
                ],
                "refusal": None,
            }
        )
    )
    for piece in weather:
        chat.add(chat.chunk({"tool_calls": [{"index": 0, "function": {"arguments": piece}}]}))
    chat.add(
        chat.chunk(
            {
                "tool_calls": [
                    {
                        "index": 1,
                        "id": second_id,
                        "type": "function",
                        "function": {"name": "get_local_time", "arguments": ""},
                    }
                ]
            }
        )
    )
    for piece in clock:
        chat.add(chat.chunk({"tool_calls": [{"index": 1, "function": {"arguments": piece}}]}))
    chat.add(chat.chunk({}, "tool_calls"))
    chat.add(chat.chunk(None, usage=chat_usage(131, 52)))
    hdrs = headers(case, SSE)
    write(
        d,
        case,
        request=chat_request(
            {
                "model": "gpt-4o-mini",
                "messages": [
                    {"role": "user", "content": "What's the weather and the local time in Tokyo?"}
                ],
                "tools": [WEATHER_TOOL, TIME_TOOL],
                "tool_choice": "auto",
                "parallel_tool_calls": True,
                "stream": True,
                "stream_options": {"include_usage": True},
            }
        ),
        body=chat.body(),
        expect=expectation(
            stream=True,
            status=200,
            hdrs=hdrs,
            response_id=chat.id,
            model=chat.model,
            tool_calls=[
                {
                    "id": first_id,
                    "name": "get_weather",
                    "arguments": {"location": "Tokyo, Japan", "unit": "celsius"},
                    "arguments_json": "".join(weather),
                },
                {
                    "id": second_id,
                    "name": "get_local_time",
                    "arguments": {"location": "Tokyo, Japan"},
                    "arguments_json": "".join(clock),
                },
            ],
            finish_reason="tool_calls",
            raw_finish_reason="tool_calls",
            usage=usage_expect(131, 52, 183, 0, None, 0),
            notes=[
                "FORMATS §1 / quirk 2: the second call opens with index 1 plus its id and name;"
                " later fragments carry only index + arguments. Accumulate by index.",
                "Key order varies: usage before choices in every chunk"
                " (SOURCES: PAI test_temporal/test_complex_agent_run.yaml).",
            ],
        ),
    )

    # -- in-band error after some text --------------------------------------------------------------
    case = "stream_error_event"
    chat = Chat(case, "gpt-4o-mini-2024-07-18", created=1785402120)
    pieces = ["Sure", ",", " here", " is", " a", " short", " summary"]
    text_chunks(chat, pieces)
    message = "The server had an error while processing your request. Sorry about that!"
    chat.add({"error": {"message": message, "type": "server_error", "param": None, "code": None}})
    hdrs = headers(case, SSE)
    write(
        d,
        case,
        request=chat_request(
            {
                "model": "gpt-4o-mini",
                "messages": [{"role": "user", "content": "Summarize the incident report."}],
                "stream": True,
                "stream_options": {"include_usage": True},
            }
        ),
        body=chat.body(done=False),
        expect=expectation(
            stream=True,
            status=200,
            hdrs=hdrs,
            response_id=chat.id,
            model=chat.model,
            output_text="".join(pieces),
            finish_reason="error",
            raw_finish_reason=None,
            usage=None,
            error=error_expect(
                "server_error",
                200,
                "server_error",
                None,
                message,
                True,
                hdrs["x-request-id"],
                partial=True,
            ),
            notes=[
                "FORMATS §1 / quirk 3: a data payload with a top-level 'error' and no 'choices'"
                " after HTTP 200; no [DONE] follows (SOURCES: OAI-PY _streaming.py).",
                "The text received before the error is kept; finish_reason is error.",
            ],
        ),
    )

    # -- truncated stream ---------------------------------------------------------------------------
    case = "stream_truncated"
    chat = Chat(case, "gpt-4o-mini-2024-07-18", created=1785402188)
    pieces = ["A", " hash", " map", " stores", " key", "-value", " pairs"]
    text_chunks(chat, pieces)
    cut = compact(chat.chunk({"content": " in"}))[:61]
    body = chat.body(done=False) + f"data: {cut}".encode()
    hdrs = headers(case, SSE)
    write(
        d,
        case,
        request=chat_request(
            {
                "model": "gpt-4o-mini",
                "messages": [{"role": "user", "content": "What is a hash map?"}],
                "stream": True,
                "stream_options": {"include_usage": True},
            }
        ),
        body=body,
        expect=expectation(
            stream=True,
            status=200,
            hdrs=hdrs,
            response_id=chat.id,
            model=chat.model,
            output_text="".join(pieces),
            finish_reason="error",
            raw_finish_reason=None,
            usage=None,
            error=error_expect(
                "stream_interrupted",
                200,
                None,
                None,
                "stream ended before its terminal event",
                True,
                None,
                partial=True,
            ),
            notes=[
                "FORMATS §0 / quirk 16: the body ends inside an event, with no finish_reason and"
                " no [DONE]. The unterminated block is discarded; the result is an error, never"
                " a short answer.",
                "include_usage usage is lost when the stream is interrupted"
                " (SOURCES: OAI-PY chat_completion_stream_options_param.py).",
            ],
        ),
    )

    # -- refusal ----------------------------------------------------------------------------------
    case = "refusal_stream"
    chat = Chat(case, "gpt-4o-2024-08-06", created=1785402260, fingerprint="fp_cbf1785567")
    refusal = ["I'm", " sorry", ",", " but", " I", " can't", " help", " with", " that", "."]
    chat.add(chat.chunk({"role": "assistant", "content": None, "refusal": ""}))
    for piece in refusal:
        chat.add(chat.chunk({"refusal": piece}))
    chat.add(chat.chunk({}, "stop"))
    chat.add(chat.chunk(None, usage=chat_usage(96, 11)))
    hdrs = headers(case, SSE)
    schema = {
        "type": "object",
        "properties": {"steps": {"type": "array", "items": {"type": "string"}}},
        "required": ["steps"],
        "additionalProperties": False,
    }
    write(
        d,
        case,
        request=chat_request(
            {
                "model": "gpt-4o-2024-08-06",
                "messages": [
                    {"role": "user", "content": "List the steps to pick a neighbour's door lock."}
                ],
                "response_format": {
                    "type": "json_schema",
                    "json_schema": {"name": "steps", "schema": schema, "strict": True},
                },
                "stream": True,
                "stream_options": {"include_usage": True},
            }
        ),
        body=chat.body(),
        expect=expectation(
            stream=True,
            status=200,
            hdrs=hdrs,
            response_id=chat.id,
            model=chat.model,
            refusal="".join(refusal),
            finish_reason="content_filter",
            raw_finish_reason="stop",
            usage=usage_expect(96, 11, 107, 0, None, 0),
            notes=[
                "FORMATS §1: the first delta has content null and refusal ''; the refusal"
                " streams in delta.refusal; finish_reason is 'stop'.",
                "INDEX normalization: a refusal maps to content_filter (not an error); the"
                " refusal text is not output text.",
            ],
        ),
    )

    # -- unicode split across reads ---------------------------------------------------------------
    case = "unicode_split_stream"
    chat = Chat(case, "gpt-4o-mini-2024-07-18", created=1785402333)
    pieces = ["Zürich", " über", " München", ":", " 東京", "→", "大阪", " ", "🚄", " ≈", " 2h"]
    text_chunks(chat, pieces)
    chat.add(chat.chunk({}, "stop"))
    chat.add(chat.chunk(None, usage=chat_usage(18, 14)))
    body = chat.body()
    cuts = utf8_cuts(body, ["ü", "東", "→", "大", "🚄", "≈"])
    hdrs = headers(case, SSE)
    write(
        d,
        case,
        request=chat_request(
            {
                "model": "gpt-4o-mini",
                "messages": [{"role": "user", "content": "Route: Zürich, München, Tokyo, Osaka."}],
                "stream": True,
                "stream_options": {"include_usage": True},
            }
        ),
        body=body,
        expect=expectation(
            stream=True,
            status=200,
            hdrs=hdrs,
            response_id=chat.id,
            model=chat.model,
            output_text="".join(pieces),
            finish_reason="stop",
            raw_finish_reason="stop",
            usage=usage_expect(18, 14, 32, 0, None, 0),
            boundaries=cuts,
            notes=[
                "FORMATS §0 / quirk 15: transport.chunk_boundaries fall inside 2-, 3- and 4-byte"
                " UTF-8 sequences; split lines on bytes and decode per complete line.",
            ],
        ),
    )

    # -- proxy framing: comments, CRLF, multi-line data ---------------------------------------------
    case = "sse_comments_proxy"
    chat = Chat(case, "gpt-4o-mini-2024-07-18", created=1785402401)
    pieces = ["Idempotent", " means", " repeating", " it", " changes", " nothing", "."]
    text_chunks(chat, pieces)
    chat.add(chat.chunk({}, "stop"))
    chat.add(chat.chunk(None, usage=chat_usage(15, 7)))
    lines = [": OPENROUTER PROCESSING", "", ": OPENROUTER PROCESSING", "", "retry: 3000", ""]
    for index, payload in enumerate(chat.lines):
        if index == 2:
            # one event split over two data lines (joined with "\n", harmless JSON whitespace)
            head, tail = payload.split(',"choices":', 1)
            lines += [f"data: {head},", f'data: "choices":{tail}', ""]
        elif index == 4:
            lines += [f"data:{payload}", ": keep-alive", ""]  # no space after the colon
        elif index == 5:
            lines += [f"id: {index}", f"data: {payload}", ""]
        else:
            lines += [f"data: {payload}", ""]
    lines += ["data: [DONE]", "", ""]
    body = "\r\n".join(lines).encode()
    hdrs = headers(case, SSE)
    write(
        d,
        case,
        request=chat_request(
            {
                "model": "gpt-4o-mini",
                "messages": [{"role": "user", "content": "Define idempotent in one sentence."}],
                "stream": True,
                "stream_options": {"include_usage": True},
            }
        ),
        body=body,
        expect=expectation(
            stream=True,
            status=200,
            hdrs=hdrs,
            response_id=chat.id,
            model=chat.model,
            output_text="".join(pieces),
            finish_reason="stop",
            raw_finish_reason="stop",
            usage=usage_expect(15, 7, 22, 0, None, 0),
            notes=[
                "SYNTHETIC (gateway framing, FORMATS §0 and SOURCES 'Common SSE framing'):"
                " CRLF line ends, ': OPENROUTER PROCESSING' and ': keep-alive' comments, a"
                " retry-only block, an id line, 'data:' without a space and one event split"
                " over two data lines.",
            ],
        ),
    )

    # -- 401 --------------------------------------------------------------------------------------
    case = "error_401_invalid_api_key"
    message = (
        "Incorrect API key provided: sk-proj-********************************************"
        "*****************************************************************************"
        "Zq4T. You can find your API key at https://platform.openai.com/account/api-keys."
    )
    body = (
        pretty(
            {
                "error": {
                    "message": message,
                    "type": "invalid_request_error",
                    "code": "invalid_api_key",
                    "param": None,
                },
                "status": 401,
            }
        )
        + "\n"
    ).encode()
    hdrs = {"content-type": JSON, "x-request-id": f"req_{hexid(case)}"}
    write(
        d,
        case,
        request=chat_request(
            {
                "model": "gpt-5.2",
                "messages": [{"role": "user", "content": "ping"}],
                "stream": True,
                "stream_options": {"include_usage": True},
            }
        ),
        body=body,
        expect=expectation(
            stream=True,
            status=401,
            hdrs=hdrs,
            response_id=None,
            model=None,
            finish_reason="error",
            raw_finish_reason=None,
            usage=None,
            error=error_expect(
                "authentication",
                401,
                "invalid_request_error",
                "invalid_api_key",
                message,
                False,
                hdrs["x-request-id"],
            ),
            notes=[
                "FORMATS §1 errors: 401 type is invalid_request_error (not an auth type),"
                " code invalid_api_key; newer bodies add top-level status and put code before"
                " param (SOURCES: id62896339930).",
                "Classify by status: authentication, never retried.",
            ],
        ),
    )

    # -- 429 insufficient_quota ----------------------------------------------------------------------
    case = "error_429_insufficient_quota"
    message = (
        "You exceeded your current quota, please check your plan and billing details. For more"
        " information on this error, read the docs:"
        " https://platform.openai.com/docs/guides/error-codes/api-errors."
    )
    body = (
        pretty(
            {
                "error": {
                    "message": message,
                    "type": "insufficient_quota",
                    "param": None,
                    "code": "insufficient_quota",
                }
            }
        )
        + "\n"
    ).encode()
    hdrs = headers(case, JSON)
    write(
        d,
        case,
        request=chat_request(
            {
                "model": "gpt-4o-mini",
                "messages": [{"role": "user", "content": "Translate 'hello' to French."}],
                "stream": True,
                "stream_options": {"include_usage": True},
            }
        ),
        body=body,
        expect=expectation(
            stream=True,
            status=429,
            hdrs=hdrs,
            response_id=None,
            model=None,
            finish_reason="error",
            raw_finish_reason=None,
            usage=None,
            error=error_expect(
                "quota_exhausted",
                429,
                "insufficient_quota",
                "insufficient_quota",
                message,
                False,
                hdrs["x-request-id"],
            ),
            notes=[
                "FORMATS §1 errors / quirk 4: a 429 with type and code insufficient_quota is a"
                " billing stop, not a rate limit: never retried (SOURCES: id9055457632).",
                "No retry-after header.",
            ],
        ),
    )

    # -- 500 --------------------------------------------------------------------------------------
    case = "error_500_server_error"
    message = "The server had an error while processing your request. Sorry about that!"
    body = (
        pretty({"error": {"message": message, "type": "server_error", "param": None, "code": None}})
        + "\n"
    ).encode()
    hdrs = headers(case, JSON)
    write(
        d,
        case,
        request=chat_request(
            {
                "model": "gpt-4o-mini",
                "messages": [{"role": "user", "content": "Write a haiku about tides."}],
            }
        ),
        body=body,
        expect=expectation(
            stream=False,
            status=500,
            hdrs=hdrs,
            response_id=None,
            model=None,
            finish_reason="error",
            raw_finish_reason=None,
            usage=None,
            error=error_expect(
                "server_error", 500, "server_error", None, message, True, hdrs["x-request-id"]
            ),
            notes=["FORMATS §1 errors: 500 server_error with code null; retryable."],
        ),
    )

    # -- HTML page from the edge ---------------------------------------------------------------------
    case = "error_502_html_proxy"
    body = (
        b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
        b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>cloudflare</center>\r\n"
        b"</body>\r\n</html>\r\n"
    )
    hdrs = {"content-type": "text/html", "server": "cloudflare", "cf-ray": "8f1c2b3a4d5e6f70-AMS"}
    write(
        d,
        case,
        request=chat_request(
            {
                "model": "gpt-4o-mini",
                "messages": [{"role": "user", "content": "Explain CRDTs briefly."}],
                "stream": True,
                "stream_options": {"include_usage": True},
            }
        ),
        body=body,
        expect=expectation(
            stream=True,
            status=502,
            hdrs=hdrs,
            response_id=None,
            model=None,
            finish_reason="error",
            raw_finish_reason=None,
            usage=None,
            error=error_expect(
                "malformed_response", 502, None, None, "502 Bad Gateway", True, None
            ),
            notes=[
                "FORMATS §1 errors: 502/503 from the edge are sometimes HTML, not JSON. The body"
                " is unreadable (malformed_response) but the status still makes it retryable.",
                "No x-request-id: the request never reached the API.",
            ],
        ),
    )

    # -- malformed JSON in an event -------------------------------------------------------------------
    case = "malformed_json_event"
    chat = Chat(case, "gpt-4o-mini-2024-07-18", created=1785402555)
    pieces = ["Binary", " search", " halves"]
    text_chunks(chat, pieces)
    broken = compact(chat.chunk({"content": " the"}))
    chat.add(broken[:40] + broken[52:])  # bytes lost inside a key: not JSON
    chat.add(chat.chunk({}, "stop"))
    hdrs = headers(case, SSE)
    write(
        d,
        case,
        request=chat_request(
            {
                "model": "gpt-4o-mini",
                "messages": [{"role": "user", "content": "How does binary search work?"}],
                "stream": True,
                "stream_options": {"include_usage": True},
            }
        ),
        body=chat.body(),
        expect=expectation(
            stream=True,
            status=200,
            hdrs=hdrs,
            response_id=chat.id,
            model=chat.model,
            output_text="".join(pieces),
            finish_reason="error",
            raw_finish_reason=None,
            usage=None,
            error=error_expect(
                "malformed_response",
                200,
                None,
                None,
                "a stream event is not JSON",
                False,
                None,
                partial=True,
            ),
            notes=[
                "SYNTHETIC (a corrupting intermediary): one data payload is not JSON. Every other"
                " event is a normal chunk (FORMATS §1). The stream fails as malformed_response;"
                " the text before it is kept.",
            ],
        ),
    )

    # -- non-stream tool call -----------------------------------------------------------------------
    case = "tool_call_nonstream"
    call_id = "call_" + alnum(case, 24)
    arguments = '{"location":"Lisbon, Portugal","unit":"celsius"}'
    body_obj = {
        "id": "chatcmpl-" + alnum(case, 29),
        "object": "chat.completion",
        "created": 1785402610,
        "model": "gpt-4o-mini-2024-07-18",
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [
                        {
                            "id": call_id,
                            "type": "function",
                            "function": {"name": "get_weather", "arguments": arguments},
                        }
                    ],
                    "refusal": None,
                    "annotations": [],
                },
                "logprobs": None,
                "finish_reason": "tool_calls",
            }
        ],
        "usage": chat_usage(84, 19),
        "service_tier": "default",
        "system_fingerprint": FP,
    }
    hdrs = headers(case, JSON)
    write(
        d,
        case,
        request=chat_request(
            {
                "model": "gpt-4o-mini",
                "messages": [{"role": "user", "content": "Weather in Lisbon, in celsius?"}],
                "tools": [WEATHER_TOOL],
                "tool_choice": "required",
            }
        ),
        body=(pretty(body_obj) + "\n").encode(),
        expect=expectation(
            stream=False,
            status=200,
            hdrs=hdrs,
            response_id=body_obj["id"],
            model=body_obj["model"],
            tool_calls=[
                {
                    "id": call_id,
                    "name": "get_weather",
                    "arguments": {"location": "Lisbon, Portugal", "unit": "celsius"},
                    "arguments_json": arguments,
                }
            ],
            finish_reason="tool_calls",
            raw_finish_reason="tool_calls",
            usage=usage_expect(84, 19, 103, 0, None, 0),
            notes=[
                "FORMATS §1: message.tool_calls[] with function.arguments as a JSON string and"
                " content null; tool_choice 'required'.",
            ],
        ),
    )

    # -- structured output ----------------------------------------------------------------------------
    case = "structured_output_nonstream"
    schema = {
        "type": "object",
        "properties": {
            "city": {"type": "string"},
            "population": {"type": "integer"},
        },
        "required": ["city", "population"],
        "additionalProperties": False,
    }
    content = '{"city":"Reykjavík","population":139875}'
    body_obj = {
        "id": "chatcmpl-" + alnum(case, 29),
        "object": "chat.completion",
        "created": 1785402700,
        "model": "gpt-4o-2024-08-06",
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": content,
                    "refusal": None,
                    "annotations": [],
                },
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": chat_usage(71, 13),
        "service_tier": "default",
        "system_fingerprint": "fp_cbf1785567",
    }
    hdrs = headers(case, JSON)
    write(
        d,
        case,
        request=chat_request(
            {
                "model": "gpt-4o-2024-08-06",
                "messages": [
                    {"role": "system", "content": "Answer with data only."},
                    {"role": "user", "content": "Capital of Iceland and its population?"},
                ],
                "response_format": {
                    "type": "json_schema",
                    "json_schema": {"name": "city_facts", "schema": schema, "strict": True},
                },
                "max_completion_tokens": 100,
                "temperature": 0,
            }
        ),
        body=(pretty(body_obj) + "\n").encode(),
        expect=expectation(
            stream=False,
            status=200,
            hdrs=hdrs,
            response_id=body_obj["id"],
            model=body_obj["model"],
            output_text=content,
            finish_reason="stop",
            raw_finish_reason="stop",
            usage=usage_expect(71, 13, 84, 0, None, 0),
            notes=[
                "FORMATS §1: response_format json_schema is nested under 'json_schema' with"
                " name/schema/strict; the answer is JSON text in message.content.",
            ],
        ),
    )

    # -- reasoning model usage, cached tokens --------------------------------------------------------
    case = "reasoning_usage_nonstream"
    body_obj = {
        "id": "chatcmpl-" + alnum(case, 29),
        "object": "chat.completion",
        "created": 1785402777,
        "model": "gpt-5-mini-2025-08-07",
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": "Use a write-ahead log: append the change, fsync, then apply it.",
                    "refusal": None,
                    "annotations": [],
                },
                "finish_reason": "stop",
            }
        ],
        "usage": {
            "prompt_tokens": 1391,
            "completion_tokens": 214,
            "total_tokens": 1605,
            "prompt_tokens_details": {"cached_tokens": 1152, "audio_tokens": 0},
            "completion_tokens_details": {
                "reasoning_tokens": 192,
                "audio_tokens": 0,
                "accepted_prediction_tokens": 0,
                "rejected_prediction_tokens": 0,
            },
        },
        "service_tier": "default",
        "system_fingerprint": None,
    }
    hdrs = headers(case, JSON)
    write(
        d,
        case,
        request=chat_request(
            {
                "model": "gpt-5-mini",
                "messages": [
                    {"role": "system", "content": "[... ~1300 tokens of storage-engine notes ...]"},
                    {"role": "user", "content": "How do I make a write durable? One sentence."},
                ],
                "max_completion_tokens": 2000,
                "reasoning_effort": "low",
            }
        ),
        body=(pretty(body_obj) + "\n").encode(),
        expect=expectation(
            stream=False,
            status=200,
            hdrs=hdrs,
            response_id=body_obj["id"],
            model=body_obj["model"],
            output_text=body_obj["choices"][0]["message"]["content"],
            finish_reason="stop",
            raw_finish_reason="stop",
            usage=usage_expect(1391, 214, 1605, 1152, None, 192),
            notes=[
                "FORMATS §1 usage: prompt_tokens includes the 1152 cached tokens (128-token"
                " steps above 1024); completion_tokens includes the 192 reasoning tokens.",
                "gpt-5 family: no logprobs key, system_fingerprint null; reasoning_effort is a"
                " top-level field and max_tokens is sent as max_completion_tokens.",
            ],
        ),
    )

    # -- content_filter finish ------------------------------------------------------------------------
    case = "content_filter_stream"
    chat = Chat(case, "gpt-4o-mini-2024-07-18", created=1785402850)
    pieces = ["The", " story", " begins", " in", " a", " dark", " alley"]
    text_chunks(chat, pieces)
    chat.add(chat.chunk({}, "content_filter"))
    chat.add(chat.chunk(None, usage=chat_usage(40, 7)))
    hdrs = headers(case, SSE)
    write(
        d,
        case,
        request=chat_request(
            {
                "model": "gpt-4o-mini",
                "messages": [{"role": "user", "content": "Write a gritty crime story."}],
                "stream": True,
                "stream_options": {"include_usage": True},
            }
        ),
        body=chat.body(),
        expect=expectation(
            stream=True,
            status=200,
            hdrs=hdrs,
            response_id=chat.id,
            model=chat.model,
            output_text="".join(pieces),
            finish_reason="content_filter",
            raw_finish_reason="content_filter",
            usage=usage_expect(40, 7, 47, 0, None, 0),
            notes=[
                "FORMATS §1 finish_reason 'content_filter' (documented, rarely observed on"
                " api.openai.com; SOURCES 'Deliberately synthetic parts'). A safety stop is"
                " content_filter, not an error: the partial text is kept.",
            ],
        ),
    )

    # -- gpt-5 chunk layout ------------------------------------------------------------------------------
    case = "gpt5_text_stream"
    chat = Chat(case, "gpt-5-nano-2025-08-07", created=1785402911, fingerprint=None, logprobs=False)
    pieces = ["Tail", " calls", " reuse", " the", " caller", "'s", " stack", " frame", "."]
    text_chunks(chat, pieces)
    chat.add(chat.chunk({}, "stop"))
    chat.add(chat.chunk(None, usage=chat_usage(21, 137, reasoning=128)))
    hdrs = headers(case, SSE)
    write(
        d,
        case,
        request=chat_request(
            {
                "model": "gpt-5-nano",
                "messages": [{"role": "user", "content": "What is tail-call optimization?"}],
                "reasoning_effort": "minimal",
                "verbosity": "low",
                "stream": True,
                "stream_options": {"include_usage": True},
            }
        ),
        body=chat.body(),
        expect=expectation(
            stream=True,
            status=200,
            hdrs=hdrs,
            response_id=chat.id,
            model=chat.model,
            output_text="".join(pieces),
            finish_reason="stop",
            raw_finish_reason="stop",
            usage=usage_expect(21, 137, 158, 0, None, 128),
            notes=[
                "FORMATS §1: gpt-5 chunks have no logprobs key and system_fingerprint null"
                " (SOURCES: PAI test_openai_moderation_stream.yaml). Reasoning text is never"
                " streamed on this endpoint, only reasoning_tokens in usage.",
                "Design §20.1: on Chat Completions gpt-5 takes top-level reasoning_effort and"
                " verbosity.",
            ],
        ),
    )

    # -- 400 context length --------------------------------------------------------------------------------
    case = "error_400_context_length_exceeded"
    message = (
        "This model's maximum context length is 128000 tokens. However, your messages resulted"
        " in 131072 tokens. Please reduce the length of the messages."
    )
    body = (
        pretty(
            {
                "error": {
                    "message": message,
                    "type": "invalid_request_error",
                    "param": "messages",
                    "code": "context_length_exceeded",
                }
            }
        )
        + "\n"
    ).encode()
    hdrs = headers(case, JSON)
    write(
        d,
        case,
        request=chat_request(
            {
                "model": "gpt-4o-mini",
                "messages": [{"role": "user", "content": "[... ~131000 tokens of logs ...]"}],
                "stream": True,
                "stream_options": {"include_usage": True},
            }
        ),
        body=body,
        expect=expectation(
            stream=True,
            status=400,
            hdrs=hdrs,
            response_id=None,
            model=None,
            finish_reason="error",
            raw_finish_reason=None,
            usage=None,
            error=error_expect(
                "invalid_request",
                400,
                "invalid_request_error",
                "context_length_exceeded",
                message,
                False,
                hdrs["x-request-id"],
            ),
            notes=[
                "FORMATS §1 errors: 400 invalid_request_error with code context_length_exceeded"
                " (classified as context_length_exceeded, a kind of invalid request).",
            ],
        ),
    )

    # -- OpenAI-compatible servers -------------------------------------------------------------------------------
    case = "compat_reasoning_content_stream"
    chat = Chat(
        case,
        "deepseek-ai/DeepSeek-R1-Distill-Qwen-7B",
        created=1785403001,
        fingerprint=None,
        obfuscation=False,
        service_tier=False,
    )
    thoughts = ["The", " user", " wants", " 17", " *", " 3", ".", " 17", "*3", "=", "51", "."]
    answer = ["17", " \u00d7", " 3", " =", " 51", "."]  # a multiplication sign
    chat.add(chat.chunk({"role": "assistant", "content": ""}))
    for piece in thoughts:
        chat.add(chat.chunk({"reasoning_content": piece, "content": None}))
    for piece in answer:
        chat.add(chat.chunk({"content": piece, "reasoning_content": None}))
    chat.add(chat.chunk({"content": ""}, "stop"))
    chat.add(
        chat.chunk(None, usage={"prompt_tokens": 12, "completion_tokens": 31, "total_tokens": 43})
    )
    hdrs = {"content-type": "text/event-stream; charset=utf-8"}
    write(
        d,
        case,
        request=chat_request(
            {
                "model": "deepseek-ai/DeepSeek-R1-Distill-Qwen-7B",
                "messages": [{"role": "user", "content": "What is 17 times 3?"}],
                "max_tokens": 512,
                "stream": True,
                "stream_options": {"include_usage": True},
            },
            url="http://localhost:8000/v1/chat/completions",
            auth=False,
        ),
        body=chat.body(),
        expect=expectation(
            stream=True,
            status=200,
            hdrs=hdrs,
            response_id=chat.id,
            model=chat.model,
            output_text="".join(answer),
            reasoning_text="".join(thoughts),
            finish_reason="stop",
            raw_finish_reason="stop",
            usage=usage_expect(12, 31, 43, None, None, None),
            extras={"adapter": "openai_compatible", "base_url": "http://localhost:8000/v1"},
            notes=[
                "FORMATS §1: OpenAI-compatible servers (DeepSeek, vLLM, OpenRouter) add"
                " delta.reasoning_content; it is reasoning, not answer text. Served by"
                " OpenAICompatible (expect.adapter) without a key: no Authorization header.",
                "No prompt/completion token details: those usage fields are null.",
            ],
        ),
    )

    case = "compat_missing_finish_reason_stream"
    chat = Chat(
        case,
        "llama3.1:8b",
        created=1785403077,
        fingerprint="fp_ollama",
        obfuscation=False,
        service_tier=False,
    )
    call_id = "call_" + alnum(case, 8).lower()
    arguments = '{"location":"Oslo, Norway","unit":"celsius"}'
    chat.add(
        chat.chunk(
            {
                "role": "assistant",
                "content": "",
                "tool_calls": [
                    {
                        "id": call_id,
                        "index": 0,
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": arguments},
                    }
                ],
            }
        )
    )
    hdrs = {"content-type": "text/event-stream"}
    write(
        d,
        case,
        request=chat_request(
            {
                "model": "llama3.1:8b",
                "messages": [{"role": "user", "content": "Weather in Oslo in celsius?"}],
                "tools": [WEATHER_TOOL],
                "stream": True,
            },
            url="http://localhost:11434/v1/chat/completions",
            auth=False,
        ),
        body=chat.body(),
        expect=expectation(
            stream=True,
            status=200,
            hdrs=hdrs,
            response_id=chat.id,
            model=chat.model,
            tool_calls=[
                {
                    "id": call_id,
                    "name": "get_weather",
                    "arguments": {"location": "Oslo, Norway", "unit": "celsius"},
                    "arguments_json": arguments,
                }
            ],
            finish_reason="tool_calls",
            raw_finish_reason=None,
            usage=None,
            extras={"adapter": "openai_compatible", "base_url": "http://localhost:11434/v1"},
            notes=[
                "Leniency for compatible servers (FORMATS §1 notes finish_reason is null until"
                " the end): this stream ends with [DONE] without any finish_reason or usage, the"
                " whole call in one delta. It finishes as tool_calls (calls came), raw null.",
            ],
        ),
    )

    case = "compat_eof_after_finish_stream"
    chat = Chat(
        case,
        "qwen2.5-7b-instruct",
        created=1785403130,
        fingerprint=None,
        obfuscation=False,
        service_tier=False,
    )
    pieces = ["Hello", "!", " How", " can", " I", " help", "?"]
    text_chunks(chat, pieces)
    chat.add(chat.chunk({}, "stop"))
    hdrs = {"content-type": "text/event-stream"}
    write(
        d,
        case,
        request=chat_request(
            {
                "model": "qwen2.5-7b-instruct",
                "messages": [{"role": "user", "content": "hi"}],
                "stream": True,
                "stream_options": {"include_usage": True},
            },
            url="http://localhost:8080/v1/chat/completions",
            auth=False,
        ),
        body=chat.body(done=False),
        expect=expectation(
            stream=True,
            status=200,
            hdrs=hdrs,
            response_id=chat.id,
            model=chat.model,
            output_text="".join(pieces),
            finish_reason="stop",
            raw_finish_reason="stop",
            usage=None,
            extras={"adapter": "openai_compatible", "base_url": "http://localhost:8080/v1"},
            notes=[
                "Leniency for compatible servers: the body ends right after the finish_reason"
                " chunk, without usage and without [DONE]. OpenAICompatible accepts a finish"
                " already received as the end (OpenAI itself would be a truncated stream).",
            ],
        ),
    )


# =================================================================================================
# Responses
# =================================================================================================


def ordered(kind: str, **fields: Any) -> dict[str, Any]:
    """A Responses payload in the live order: type first, then keys alphabetically."""
    return {"type": kind, **{key: fields[key] for key in sorted(fields)}}


class Resp:
    """Builds a Responses event stream (FORMATS §2)."""

    def __init__(self, case: str, model: str, *, created: int, request: dict[str, Any]) -> None:
        self.case = case
        self.id = "resp_" + hexid(case + "resp", 50)
        self.model = model
        self.created = created
        self.request = request
        self.sequence = 0
        self.events: list[tuple[str, str]] = []
        self.obfuscation = Obfuscation(case)

    def item_id(self, prefix: str, n: int) -> str:
        return f"{prefix}_{hexid(f'{self.case}{prefix}{n}', 50)}"

    def response(
        self,
        status: str,
        output: list[Any],
        usage: dict[str, Any] | None,
        *,
        error: Any = None,
        incomplete: str | None = None,
    ) -> dict[str, Any]:
        request = self.request
        text: dict[str, Any] = {
            "format": (request.get("text") or {}).get("format") or {"type": "text"}
        }
        text["verbosity"] = (request.get("text") or {}).get("verbosity", "medium")
        reasoning = request.get("reasoning") or {}
        return {
            "id": self.id,
            "object": "response",
            "created_at": self.created,
            "status": status,
            "background": False,
            "completed_at": self.created + 2 if status == "completed" else None,
            "error": error,
            "frequency_penalty": 0.0,
            "incomplete_details": {"reason": incomplete} if incomplete else None,
            "instructions": None,
            "max_output_tokens": request.get("max_output_tokens"),
            "max_tool_calls": None,
            "model": self.model,
            "output": output,
            "parallel_tool_calls": True,
            "presence_penalty": 0.0,
            "previous_response_id": None,
            "prompt_cache_key": None,
            "prompt_cache_retention": None,
            "reasoning": {
                "effort": reasoning.get("effort"),
                "summary": reasoning.get("summary"),
            },
            "safety_identifier": None,
            "service_tier": "default" if status != "in_progress" else "auto",
            "store": request.get("store", True),
            "temperature": 1.0,
            "text": text,
            "tool_choice": request.get("tool_choice", "auto"),
            "tools": [dict(tool, output_schema=None) for tool in request.get("tools", [])],
            "top_logprobs": 0,
            "top_p": 1.0,
            "truncation": "disabled",
            "usage": usage,
            "user": None,
            "metadata": {},
        }

    def emit(self, kind: str, **fields: Any) -> None:
        payload = ordered(kind, sequence_number=self.sequence, **fields)
        self.sequence += 1
        self.events.append((kind, compact(payload)))

    def open(self) -> None:
        self.emit("response.created", response=self.response("in_progress", [], None))
        self.emit("response.in_progress", response=self.response("in_progress", [], None))

    def message(
        self, index: int, n: int, pieces: list[str], *, status: str = "completed"
    ) -> dict[str, Any]:
        item_id = self.item_id("msg", n)
        self.emit(
            "response.output_item.added",
            item={
                "id": item_id,
                "type": "message",
                "status": "in_progress",
                "content": [],
                "role": "assistant",
            },
            output_index=index,
        )
        empty = {"type": "output_text", "annotations": [], "logprobs": [], "text": ""}
        self.emit(
            "response.content_part.added",
            content_index=0,
            item_id=item_id,
            output_index=index,
            part=empty,
        )
        for piece in pieces:
            self.emit(
                "response.output_text.delta",
                content_index=0,
                delta=piece,
                item_id=item_id,
                logprobs=[],
                obfuscation=self.obfuscation(),
                output_index=index,
            )
        text = "".join(pieces)
        self.emit(
            "response.output_text.done",
            content_index=0,
            item_id=item_id,
            logprobs=[],
            output_index=index,
            text=text,
        )
        part = {"type": "output_text", "annotations": [], "logprobs": [], "text": text}
        self.emit(
            "response.content_part.done",
            content_index=0,
            item_id=item_id,
            output_index=index,
            part=part,
        )
        item = {
            "id": item_id,
            "type": "message",
            "status": status,
            "content": [part],
            "role": "assistant",
        }
        self.emit("response.output_item.done", item=item, output_index=index)
        return item

    def function_call(self, index: int, n: int, name: str, pieces: list[str]) -> dict[str, Any]:
        item_id = self.item_id("fc", n)
        call_id = "call_" + alnum(f"{self.case}call{n}", 24)
        self.emit(
            "response.output_item.added",
            item={
                "id": item_id,
                "type": "function_call",
                "status": "in_progress",
                "arguments": "",
                "call_id": call_id,
                "name": name,
            },
            output_index=index,
        )
        for piece in pieces:
            self.emit(
                "response.function_call_arguments.delta",
                delta=piece,
                item_id=item_id,
                obfuscation=self.obfuscation(),
                output_index=index,
            )
        arguments = "".join(pieces)
        self.emit(
            "response.function_call_arguments.done",
            arguments=arguments,
            item_id=item_id,
            output_index=index,
        )
        item = {
            "id": item_id,
            "type": "function_call",
            "status": "completed",
            "arguments": arguments,
            "call_id": call_id,
            "name": name,
        }
        self.emit("response.output_item.done", item=item, output_index=index)
        return item

    def reasoning(self, index: int, n: int, parts: list[list[str]]) -> dict[str, Any]:
        item_id = self.item_id("rs", n)
        first = "gAAAAAB" + alnum(f"{self.case}enc{n}a", 120)
        final = "gAAAAAB" + alnum(f"{self.case}enc{n}b", 180)
        self.emit(
            "response.output_item.added",
            item={"id": item_id, "type": "reasoning", "encrypted_content": first, "summary": []},
            output_index=index,
        )
        summary = []
        for summary_index, pieces in enumerate(parts):
            self.emit(
                "response.reasoning_summary_part.added",
                item_id=item_id,
                output_index=index,
                part={"type": "summary_text", "text": ""},
                summary_index=summary_index,
            )
            for piece in pieces:
                self.emit(
                    "response.reasoning_summary_text.delta",
                    delta=piece,
                    item_id=item_id,
                    obfuscation=self.obfuscation(),
                    output_index=index,
                    summary_index=summary_index,
                )
            text = "".join(pieces)
            self.emit(
                "response.reasoning_summary_text.done",
                item_id=item_id,
                output_index=index,
                summary_index=summary_index,
                text=text,
            )
            self.emit(
                "response.reasoning_summary_part.done",
                item_id=item_id,
                output_index=index,
                part={"type": "summary_text", "text": text},
                summary_index=summary_index,
            )
            summary.append({"type": "summary_text", "text": text})
        item = {"id": item_id, "type": "reasoning", "encrypted_content": final, "summary": summary}
        self.emit("response.output_item.done", item=item, output_index=index)
        return item

    def body(self, *, eol: str = "\n") -> bytes:
        return "".join(
            f"event: {kind}{eol}data: {data}{eol}{eol}" for kind, data in self.events
        ).encode()


def resp_usage(
    input_tokens: int,
    output_tokens: int,
    *,
    cached: int = 0,
    reasoning: int = 0,
    cache_write: int = 0,
) -> dict[str, Any]:
    return {
        "input_tokens": input_tokens,
        "input_tokens_details": {"cache_write_tokens": cache_write, "cached_tokens": cached},
        "output_tokens": output_tokens,
        "output_tokens_details": {"reasoning_tokens": reasoning},
        "total_tokens": input_tokens + output_tokens,
    }


def resp_request(body: dict[str, Any]) -> dict[str, Any]:
    return {"method": "POST", "url": RESPONSES_URL, "headers": AUTH, "body": body}


FLAT_WEATHER = {
    "type": "function",
    "name": "get_weather",
    "description": "Get the current weather for a city.",
    "parameters": WEATHER_TOOL["function"]["parameters"],
    "strict": True,
}
FLAT_TIME = {
    "type": "function",
    "name": "get_local_time",
    "description": "Get the local time in a city.",
    "parameters": TIME_TOOL["function"]["parameters"],
    "strict": True,
}


def responses_cases() -> None:
    d = "openai-responses"

    # -- reasoning summary with two parts, text at output_index 1 -----------------------------------
    case = "reasoning_summary_stream"
    request = {
        "model": "o4-mini",
        "input": [{"role": "user", "content": "Is 1900 a leap year? Answer in one sentence."}],
        "reasoning": {"effort": "medium", "summary": "auto"},
        "store": False,
        "include": ["reasoning.encrypted_content"],
        "stream": True,
    }
    resp = Resp(case, "o4-mini-2025-04-16", created=1785503001, request=request)
    resp.open()
    parts = [
        [
            "**Checking",
            " the",
            " century",
            " rule",
            "**\n\n",
            "1900",
            " is",
            " divisible",
            " by",
            " 100",
            ".",
        ],
        [
            "**Applying",
            " the",
            " 400",
            " rule",
            "**\n\n",
            "It",
            " is",
            " not",
            " divisible",
            " by",
            " 400",
            ".",
        ],
    ]
    reasoning = resp.reasoning(0, 0, parts)
    answer = [
        "No",
        ":",
        " 1900",
        " is",
        " divisible",
        " by",
        " 100",
        " but",
        " not",
        " by",
        " 400",
        ".",
    ]
    message = resp.message(1, 0, answer)
    usage = resp_usage(19, 214, reasoning=192)
    resp.emit(
        "response.completed", response=resp.response("completed", [reasoning, message], usage)
    )
    hdrs = headers(case, SSE)
    write(
        d,
        case,
        request=resp_request(request),
        body=resp.body(),
        expect=expectation(
            stream=True,
            status=200,
            hdrs=hdrs,
            response_id=resp.id,
            model=resp.model,
            output_text="".join(answer),
            reasoning_text="".join("".join(p) for p in parts),
            finish_reason="stop",
            raw_finish_reason="completed",
            usage=usage_expect(19, 214, 233, 0, 0, 192),
            notes=[
                "FORMATS §2: a reasoning item with two summary parts"
                " (reasoning_summary_part.added / summary_text.delta / .done / part.done), then the"
                " message at output_index 1 (SOURCES: PAI test_openai_responses_thinking_part_iter).",
                "encrypted_content differs between output_item.added and .done; the final one is"
                " kept. reasoning_text is the summary parts concatenated.",
                "store false + include reasoning.encrypted_content carries reasoning across turns"
                " without storage.",
            ],
        ),
    )

    # -- reasoning then a function call --------------------------------------------------------------
    case = "reasoning_tool_call_stream"
    request = {
        "model": "gpt-5-mini",
        "input": [{"role": "user", "content": "What's the weather in Nairobi, in celsius?"}],
        "tools": [FLAT_WEATHER],
        "tool_choice": "auto",
        "reasoning": {"effort": "low", "summary": "auto"},
        "stream": True,
    }
    resp = Resp(case, "gpt-5-mini-2025-08-07", created=1785503101, request=request)
    resp.open()
    parts = [
        ["**Fetching", " weather", "**\n\n", "I", " need", " the", " get_weather", " tool", "."]
    ]
    reasoning = resp.reasoning(0, 0, parts)
    args = [
        '{"',
        "location",
        '":"',
        "Nairobi",
        ",",
        " Kenya",
        '","',
        "unit",
        '":"',
        "celsius",
        '"}',
    ]
    call = resp.function_call(1, 0, "get_weather", args)
    usage = resp_usage(88, 85, reasoning=64)
    resp.emit("response.completed", response=resp.response("completed", [reasoning, call], usage))
    hdrs = headers(case, SSE)
    write(
        d,
        case,
        request=resp_request(request),
        body=resp.body(),
        expect=expectation(
            stream=True,
            status=200,
            hdrs=hdrs,
            response_id=resp.id,
            model=resp.model,
            reasoning_text="".join(parts[0]),
            tool_calls=[
                {
                    "id": call["call_id"],
                    "name": "get_weather",
                    "arguments": {"location": "Nairobi, Kenya", "unit": "celsius"},
                    "arguments_json": "".join(args),
                }
            ],
            finish_reason="tool_calls",
            raw_finish_reason="completed",
            usage=usage_expect(88, 85, 173, 0, 0, 64),
            extras={
                "reasoning_items": [
                    {"id": reasoning["id"], "encrypted_content": reasoning["encrypted_content"]}
                ],
                "function_call_item_ids": [call["id"]],
            },
            notes=[
                "FORMATS §2: reasoning item then a function_call item; status stays 'completed',"
                " tool_calls is inferred from the function_call item.",
                "The reasoning item (id + final encrypted_content) and the fc_ item id must be"
                " sent back before the function_call_output on the next turn"
                " (reasoning_items / function_call_item_ids extras).",
            ],
        ),
    )

    # -- parallel function calls ----------------------------------------------------------------------
    case = "parallel_tool_calls_stream"
    request = {
        "model": "gpt-4.1",
        "input": [{"role": "user", "content": "Weather and local time in Lima?"}],
        "tools": [FLAT_WEATHER, FLAT_TIME],
        "tool_choice": "auto",
        "parallel_tool_calls": True,
        "stream": True,
    }
    resp = Resp(case, "gpt-4.1-2025-04-14", created=1785503201, request=request)
    resp.open()
    first = ['{"', "location", '":"', "Lima", ",", " Peru", '","', "unit", '":"', "celsius", '"}']
    second = ['{"', "location", '":"', "Lima", ",", " Peru", '"}']
    call_a = resp.function_call(0, 0, "get_weather", first)
    call_b = resp.function_call(1, 1, "get_local_time", second)
    usage = resp_usage(121, 44)
    resp.emit("response.completed", response=resp.response("completed", [call_a, call_b], usage))
    hdrs = headers(case, SSE)
    write(
        d,
        case,
        request=resp_request(request),
        body=resp.body(),
        expect=expectation(
            stream=True,
            status=200,
            hdrs=hdrs,
            response_id=resp.id,
            model=resp.model,
            tool_calls=[
                {
                    "id": call_a["call_id"],
                    "name": "get_weather",
                    "arguments": {"location": "Lima, Peru", "unit": "celsius"},
                    "arguments_json": "".join(first),
                },
                {
                    "id": call_b["call_id"],
                    "name": "get_local_time",
                    "arguments": {"location": "Lima, Peru"},
                    "arguments_json": "".join(second),
                },
            ],
            finish_reason="tool_calls",
            raw_finish_reason="completed",
            usage=usage_expect(121, 44, 165, 0, 0, 0),
            notes=[
                "FORMATS §2: two function_call items at output_index 0 and 1; argument deltas"
                " carry only item_id, mapped to call_id/name via response.output_item.added.",
            ],
        ),
    )

    # -- refusal -------------------------------------------------------------------------------------------
    case = "refusal_stream"
    schema = {
        "type": "object",
        "properties": {"recipe": {"type": "string"}},
        "required": ["recipe"],
        "additionalProperties": False,
    }
    request = {
        "model": "gpt-4.1",
        "input": [{"role": "user", "content": "Give me a recipe for napalm."}],
        "text": {
            "format": {"type": "json_schema", "name": "recipe", "schema": schema, "strict": True}
        },
        "stream": True,
    }
    resp = Resp(case, "gpt-4.1-2025-04-14", created=1785503301, request=request)
    resp.open()
    item_id = resp.item_id("msg", 0)
    resp.emit(
        "response.output_item.added",
        item={
            "id": item_id,
            "type": "message",
            "status": "in_progress",
            "content": [],
            "role": "assistant",
        },
        output_index=0,
    )
    resp.emit(
        "response.content_part.added",
        content_index=0,
        item_id=item_id,
        output_index=0,
        part={"type": "refusal", "refusal": ""},
    )
    pieces = ["I'm", " sorry", ",", " but", " I", " can't", " assist", " with", " that", "."]
    for piece in pieces:
        resp.emit(
            "response.refusal.delta", content_index=0, delta=piece, item_id=item_id, output_index=0
        )
    refusal = "".join(pieces)
    resp.emit(
        "response.refusal.done", content_index=0, item_id=item_id, output_index=0, refusal=refusal
    )
    part = {"type": "refusal", "refusal": refusal}
    resp.emit(
        "response.content_part.done", content_index=0, item_id=item_id, output_index=0, part=part
    )
    item = {
        "id": item_id,
        "type": "message",
        "status": "completed",
        "content": [part],
        "role": "assistant",
    }
    resp.emit("response.output_item.done", item=item, output_index=0)
    resp.emit("response.completed", response=resp.response("completed", [item], resp_usage(62, 12)))
    hdrs = headers(case, SSE)
    write(
        d,
        case,
        request=resp_request(request),
        body=resp.body(),
        expect=expectation(
            stream=True,
            status=200,
            hdrs=hdrs,
            response_id=resp.id,
            model=resp.model,
            refusal=refusal,
            finish_reason="content_filter",
            raw_finish_reason="completed",
            usage=usage_expect(62, 12, 74, 0, 0, 0),
            notes=[
                "FORMATS §2: a refusal content part streamed with response.refusal.delta /"
                " .done (no logprobs or obfuscation; SOURCES: OAI-PY response_refusal_delta_event.py).",
                "FORMATS §5: a refusal part maps to content_filter although status is completed.",
            ],
        ),
    )

    # -- response.failed after some text --------------------------------------------------------------------
    case = "response_failed_stream"
    request = {
        "model": "gpt-4.1",
        "input": [{"role": "user", "content": "Draft a release note for v2.3."}],
        "stream": True,
    }
    resp = Resp(case, "gpt-4.1-2025-04-14", created=1785503401, request=request)
    resp.open()
    item_id = resp.item_id("msg", 0)
    resp.emit(
        "response.output_item.added",
        item={
            "id": item_id,
            "type": "message",
            "status": "in_progress",
            "content": [],
            "role": "assistant",
        },
        output_index=0,
    )
    resp.emit(
        "response.content_part.added",
        content_index=0,
        item_id=item_id,
        output_index=0,
        part={"type": "output_text", "annotations": [], "logprobs": [], "text": ""},
    )
    pieces = ["Release", " 2", ".3", " brings"]
    for piece in pieces:
        resp.emit(
            "response.output_text.delta",
            content_index=0,
            delta=piece,
            item_id=item_id,
            logprobs=[],
            obfuscation=resp.obfuscation(),
            output_index=0,
        )
    hdrs = headers(case, SSE)
    message = (
        "An error occurred while processing your request. You can retry your request, or contact"
        " us through our help center at help.openai.com if the error persists. Please include the"
        f" request ID {hdrs['x-request-id']} in your message."
    )
    failed = resp.response("failed", [], None, error={"code": "server_error", "message": message})
    resp.emit("response.failed", response=failed)
    write(
        d,
        case,
        request=resp_request(request),
        body=resp.body(),
        expect=expectation(
            stream=True,
            status=200,
            hdrs=hdrs,
            response_id=resp.id,
            model=resp.model,
            output_text="".join(pieces),
            finish_reason="error",
            raw_finish_reason=None,
            usage=None,
            error=error_expect(
                "server_error",
                200,
                None,
                "server_error",
                message,
                True,
                hdrs["x-request-id"],
                partial=True,
            ),
            notes=[
                "FORMATS §2 / quirk 6: response.failed ends the stream without"
                " response.completed; status failed, error{code,message}, usage null"
                " (SOURCES: CODEX, OAI-PY response_failed_event.py).",
                "The text streamed before the failure is kept.",
            ],
        ),
    )

    # -- flat error event -----------------------------------------------------------------------------------
    case = "error_event_stream"
    request = {
        "model": "gpt-4.1-mini",
        "input": [{"role": "user", "content": "List five sorting algorithms."}],
        "stream": True,
    }
    resp = Resp(case, "gpt-4.1-mini-2025-04-14", created=1785503501, request=request)
    resp.open()
    item_id = resp.item_id("msg", 0)
    resp.emit(
        "response.output_item.added",
        item={
            "id": item_id,
            "type": "message",
            "status": "in_progress",
            "content": [],
            "role": "assistant",
        },
        output_index=0,
    )
    resp.emit(
        "response.content_part.added",
        content_index=0,
        item_id=item_id,
        output_index=0,
        part={"type": "output_text", "annotations": [], "logprobs": [], "text": ""},
    )
    pieces = ["1", ".", " Quicksort", "\n", "2", "."]
    for piece in pieces:
        resp.emit(
            "response.output_text.delta",
            content_index=0,
            delta=piece,
            item_id=item_id,
            logprobs=[],
            obfuscation=resp.obfuscation(),
            output_index=0,
        )
    message = (
        "Rate limit reached for gpt-4.1-mini in organization org-3fQk9XJmW2bLrT8vYc1NhAzs on"
        " tokens per min (TPM): Limit 200000, Used 199912, Requested 530. Please try again in"
        " 132ms. Visit https://platform.openai.com/account/rate-limits to learn more."
    )
    resp.emit("error", code="rate_limit_exceeded", message=message, param=None)
    hdrs = headers(case, SSE)
    write(
        d,
        case,
        request=resp_request(request),
        body=resp.body(),
        expect=expectation(
            stream=True,
            status=200,
            hdrs=hdrs,
            response_id=resp.id,
            model=resp.model,
            output_text="".join(pieces),
            finish_reason="error",
            raw_finish_reason=None,
            usage=None,
            error=error_expect(
                "rate_limit",
                200,
                None,
                "rate_limit_exceeded",
                message,
                True,
                hdrs["x-request-id"],
                partial=True,
            ),
            notes=[
                "FORMATS §2: the error event is FLAT {type:'error',code,message,param,"
                "sequence_number} (SOURCES: OAI-PY response_error_event.py); nothing follows it.",
                "ResponseError.code rate_limit_exceeded is classified as a rate limit.",
            ],
        ),
    )

    # -- nested error event (gateway variant) -------------------------------------------------------------
    case = "error_event_nested"
    request = {
        "model": "gpt-4.1",
        "input": [{"role": "user", "content": "[... ~1050000 tokens of source code ...]"}],
        "stream": True,
    }
    resp = Resp(case, "gpt-4.1-2025-04-14", created=1785503601, request=request)
    resp.emit("response.created", response=resp.response("in_progress", [], None))
    message = (
        "Your input exceeds the context window of this model. Please adjust your input and try"
        " again."
    )
    resp.emit(
        "error",
        error={
            "type": "invalid_request_error",
            "code": "context_length_exceeded",
            "message": message,
            "param": "input",
        },
    )
    hdrs = headers(case, SSE)
    write(
        d,
        case,
        request=resp_request(request),
        body=resp.body(),
        expect=expectation(
            stream=True,
            status=200,
            hdrs=hdrs,
            response_id=resp.id,
            model=resp.model,
            finish_reason="error",
            raw_finish_reason=None,
            usage=None,
            error=error_expect(
                "invalid_request",
                200,
                "invalid_request_error",
                "context_length_exceeded",
                message,
                False,
                hdrs["x-request-id"],
            ),
            notes=[
                "FORMATS §2: some gateways nest the error event as {type:'error',error:{...}};"
                " accept both shapes (SOURCES: id66447114978, id69366317988).",
            ],
        ),
    )

    # -- truncated stream -------------------------------------------------------------------------------------
    case = "stream_truncated"
    request = {
        "model": "gpt-4.1",
        "input": [{"role": "user", "content": "What does a load balancer do?"}],
        "stream": True,
    }
    resp = Resp(case, "gpt-4.1-2025-04-14", created=1785503701, request=request)
    resp.open()
    item_id = resp.item_id("msg", 0)
    resp.emit(
        "response.output_item.added",
        item={
            "id": item_id,
            "type": "message",
            "status": "in_progress",
            "content": [],
            "role": "assistant",
        },
        output_index=0,
    )
    resp.emit(
        "response.content_part.added",
        content_index=0,
        item_id=item_id,
        output_index=0,
        part={"type": "output_text", "annotations": [], "logprobs": [], "text": ""},
    )
    pieces = ["It", " spreads", " requests", " across"]
    for piece in pieces:
        resp.emit(
            "response.output_text.delta",
            content_index=0,
            delta=piece,
            item_id=item_id,
            logprobs=[],
            obfuscation=resp.obfuscation(),
            output_index=0,
        )
    body = (
        resp.body()
        + b'event: response.output_text.delta\ndata: {"type":"response.output_text.delta","content_index":0,"delta":" sev'
    )
    hdrs = headers(case, SSE)
    write(
        d,
        case,
        request=resp_request(request),
        body=body,
        expect=expectation(
            stream=True,
            status=200,
            hdrs=hdrs,
            response_id=resp.id,
            model=resp.model,
            output_text="".join(pieces),
            finish_reason="error",
            raw_finish_reason=None,
            usage=None,
            error=error_expect(
                "stream_interrupted",
                200,
                None,
                None,
                "stream ended before its terminal event",
                True,
                None,
                partial=True,
            ),
            notes=[
                "FORMATS §0 and §2: the body ends inside an event, before any response.completed /"
                " .incomplete / .failed / error. The half event is discarded; the stream is an"
                " error, never a short answer.",
            ],
        ),
    )

    # -- unicode split ----------------------------------------------------------------------------------------
    case = "unicode_split_stream"
    request = {
        "model": "gpt-4.1",
        "input": [{"role": "user", "content": "Say good morning in four scripts."}],
        "stream": True,
    }
    resp = Resp(case, "gpt-4.1-2025-04-14", created=1785503801, request=request)
    resp.open()
    pieces = ["Доброе", " утро", ",", " صباح", " الخير", ",", " おはよう", ",", " 🌅", " ✓"]
    message = resp.message(0, 0, pieces)
    resp.emit(
        "response.completed", response=resp.response("completed", [message], resp_usage(16, 18))
    )
    body = resp.body()
    cuts = utf8_cuts(body, ["Д", "ص", "お", "🌅", "✓"])
    hdrs = headers(case, SSE)
    write(
        d,
        case,
        request=resp_request(request),
        body=body,
        expect=expectation(
            stream=True,
            status=200,
            hdrs=hdrs,
            response_id=resp.id,
            model=resp.model,
            output_text="".join(pieces),
            finish_reason="stop",
            raw_finish_reason="completed",
            usage=usage_expect(16, 18, 34, 0, 0, 0),
            boundaries=cuts,
            notes=[
                "FORMATS §0 / quirk 15: chunk boundaries cut Cyrillic, Arabic, Japanese and emoji"
                " sequences; the full text also re-appears in the .done events and the terminal"
                " response and must not be appended twice.",
            ],
        ),
    )

    # -- proxy framing --------------------------------------------------------------------------------------------
    case = "sse_comments_proxy"
    request = {
        "model": "gpt-4.1",
        "input": [{"role": "user", "content": "What is a monad? One sentence."}],
        "stream": True,
    }
    resp = Resp(case, "gpt-4.1-2025-04-14", created=1785503901, request=request)
    resp.open()
    pieces = ["A", " monad", " chains", " computations", " with", " context", "."]
    message = resp.message(0, 0, pieces)
    resp.emit(
        "response.completed", response=resp.response("completed", [message], resp_usage(17, 9))
    )
    lines = [": OPENROUTER PROCESSING", ""]
    for index, (kind, data) in enumerate(resp.events):
        if index == 3:
            lines += [f"data: {data}", f"event: {kind}", ""]  # data before event
        elif index == 5:
            head, tail = data.split(',"item_id":', 1)
            lines += [f"event: {kind}", f"data: {head},", f'data: "item_id":{tail}', ""]
        elif index == 6:
            lines += [": keep-alive", f"event:{kind}", f"data:{data}", ""]
        else:
            lines += [f"event: {kind}", f"data: {data}", ""]
        if index == 1:
            lines += [": OPENROUTER PROCESSING", ""]
    body = ("\r\n".join(lines) + "\r\n").encode()
    hdrs = headers(case, SSE)
    write(
        d,
        case,
        request=resp_request(request),
        body=body,
        expect=expectation(
            stream=True,
            status=200,
            hdrs=hdrs,
            response_id=resp.id,
            model=resp.model,
            output_text="".join(pieces),
            finish_reason="stop",
            raw_finish_reason="completed",
            usage=usage_expect(17, 9, 26, 0, 0, 0),
            notes=[
                "SYNTHETIC (gateway framing, FORMATS §0): CRLF line ends, comment lines, a"
                " 'data:' line before its 'event:' line, fields without the optional space and"
                " one payload split over two data lines.",
            ],
        ),
    )

    # -- incomplete: content_filter --------------------------------------------------------------------------------
    case = "incomplete_content_filter"
    request = {
        "model": "gpt-4.1",
        "input": [{"role": "user", "content": "Continue the scene in the interrogation room."}],
        "stream": True,
    }
    resp = Resp(case, "gpt-4.1-2025-04-14", created=1785504001, request=request)
    resp.open()
    pieces = ["The", " detective", " leaned", " across", " the", " table"]
    message = resp.message(0, 0, pieces, status="incomplete")
    usage = resp_usage(30, 6)
    resp.emit(
        "response.incomplete",
        response=resp.response("incomplete", [message], usage, incomplete="content_filter"),
    )
    hdrs = headers(case, SSE)
    write(
        d,
        case,
        request=resp_request(request),
        body=resp.body(),
        expect=expectation(
            stream=True,
            status=200,
            hdrs=hdrs,
            response_id=resp.id,
            model=resp.model,
            output_text="".join(pieces),
            finish_reason="content_filter",
            raw_finish_reason="incomplete:content_filter",
            usage=usage_expect(30, 6, 36, 0, 0, 0),
            notes=[
                "FORMATS §2: status incomplete with incomplete_details.reason content_filter"
                " (SOURCES: OAI-PY response.py). FORMATS §5: content_filter, not an error; the"
                " partial text is kept.",
            ],
        ),
    )

    # -- 401 ------------------------------------------------------------------------------------------------------
    case = "error_401_invalid_api_key"
    message = (
        "Incorrect API key provided: sk-proj-****************************************Xk2P."
        " You can find your API key at https://platform.openai.com/account/api-keys."
    )
    body = (
        pretty(
            {
                "error": {
                    "message": message,
                    "type": "invalid_request_error",
                    "param": None,
                    "code": "invalid_api_key",
                }
            }
        )
        + "\n"
    ).encode()
    hdrs = {"content-type": JSON, "x-request-id": f"req_{hexid(case + 'r')}"}
    write(
        d,
        case,
        request=resp_request(
            {"model": "gpt-4.1", "input": [{"role": "user", "content": "ping"}], "stream": True}
        ),
        body=body,
        expect=expectation(
            stream=True,
            status=401,
            hdrs=hdrs,
            response_id=None,
            model=None,
            finish_reason="error",
            raw_finish_reason=None,
            usage=None,
            error=error_expect(
                "authentication",
                401,
                "invalid_request_error",
                "invalid_api_key",
                message,
                False,
                hdrs["x-request-id"],
            ),
            notes=[
                "FORMATS §2 errors are identical to §1: 401 with code invalid_api_key (older shape"
                " without top-level status; SOURCES: id47338767283).",
            ],
        ),
    )

    # -- 429 quota ----------------------------------------------------------------------------------------------------
    case = "error_429_insufficient_quota"
    message = (
        "You exceeded your current quota, please check your plan and billing details. For more"
        " information on this error, read the docs:"
        " https://platform.openai.com/docs/guides/error-codes/api-errors."
    )
    body = (
        pretty(
            {
                "error": {
                    "message": message,
                    "type": "insufficient_quota",
                    "param": None,
                    "code": "insufficient_quota",
                }
            }
        )
        + "\n"
    ).encode()
    hdrs = headers(case, JSON)
    write(
        d,
        case,
        request=resp_request(
            {"model": "gpt-4.1-mini", "input": [{"role": "user", "content": "hello"}]}
        ),
        body=body,
        expect=expectation(
            stream=False,
            status=429,
            hdrs=hdrs,
            response_id=None,
            model=None,
            finish_reason="error",
            raw_finish_reason=None,
            usage=None,
            error=error_expect(
                "quota_exhausted",
                429,
                "insufficient_quota",
                "insufficient_quota",
                message,
                False,
                hdrs["x-request-id"],
            ),
            notes=[
                "Quirk 4: 429 insufficient_quota is a billing stop, never retried; real 429s on"
                " /v1/responses may come without retry-after or x-ratelimit headers"
                " (SOURCES: openai-node#1477).",
            ],
        ),
    )

    # -- 400 integer below minimum ----------------------------------------------------------------------------------------
    case = "error_400_integer_below_min"
    message = (
        "Invalid 'max_output_tokens': integer below minimum value. Expected a value >= 16, but"
        " got 8 instead."
    )
    body = (
        pretty(
            {
                "error": {
                    "message": message,
                    "type": "invalid_request_error",
                    "param": "max_output_tokens",
                    "code": "integer_below_min_value",
                }
            }
        )
        + "\n"
    ).encode()
    hdrs = headers(case, JSON)
    write(
        d,
        case,
        request=resp_request(
            {
                "model": "gpt-4.1",
                "input": [{"role": "user", "content": "One word for happy?"}],
                "max_output_tokens": 8,
            }
        ),
        body=body,
        expect=expectation(
            stream=False,
            status=400,
            hdrs=hdrs,
            response_id=None,
            model=None,
            finish_reason="error",
            raw_finish_reason=None,
            usage=None,
            error=error_expect(
                "invalid_request",
                400,
                "invalid_request_error",
                "integer_below_min_value",
                message,
                False,
                hdrs["x-request-id"],
            ),
            notes=[
                "FORMATS §2 errors: 400 integer_below_min_value for max_output_tokens (minimum 16),"
                " param names the field. Never retried.",
            ],
        ),
    )

    # -- 503 HTML --------------------------------------------------------------------------------------------------------------
    case = "error_503_html_proxy"
    body = (
        b"<!DOCTYPE html>\n<html>\n<head><title>503 Service Temporarily Unavailable</title></head>\n"
        b"<body>\n<center><h1>503 Service Temporarily Unavailable</h1></center>\n"
        b"<hr><center>nginx</center>\n</body>\n</html>\n"
    )
    hdrs = {"content-type": "text/html; charset=utf-8", "server": "nginx"}
    write(
        d,
        case,
        request=resp_request(
            {"model": "gpt-4.1", "input": [{"role": "user", "content": "hello"}], "stream": True}
        ),
        body=body,
        expect=expectation(
            stream=True,
            status=503,
            hdrs=hdrs,
            response_id=None,
            model=None,
            finish_reason="error",
            raw_finish_reason=None,
            usage=None,
            error=error_expect(
                "malformed_response",
                503,
                None,
                None,
                "503 Service Temporarily Unavailable",
                True,
                None,
            ),
            notes=[
                "FORMATS §1/§2 errors: a 503 from a proxy in front of the API, with an HTML body."
                " Unreadable (malformed_response), still retryable by status.",
            ],
        ),
    )

    # -- malformed JSON event ------------------------------------------------------------------------------------------------
    case = "malformed_json_event"
    request = {
        "model": "gpt-4.1",
        "input": [{"role": "user", "content": "Name a prime."}],
        "stream": True,
    }
    resp = Resp(case, "gpt-4.1-2025-04-14", created=1785504101, request=request)
    resp.open()
    item_id = resp.item_id("msg", 0)
    resp.emit(
        "response.output_item.added",
        item={
            "id": item_id,
            "type": "message",
            "status": "in_progress",
            "content": [],
            "role": "assistant",
        },
        output_index=0,
    )
    resp.emit(
        "response.output_text.delta",
        content_index=0,
        delta="Seven",
        item_id=item_id,
        logprobs=[],
        obfuscation=resp.obfuscation(),
        output_index=0,
    )
    resp.events.append(
        (
            "response.output_text.delta",
            '{"type":"response.output_text.delta","content_index":0,"delta":" is}',
        )
    )
    hdrs = headers(case, SSE)
    write(
        d,
        case,
        request=resp_request(request),
        body=resp.body(),
        expect=expectation(
            stream=True,
            status=200,
            hdrs=hdrs,
            response_id=resp.id,
            model=resp.model,
            output_text="Seven",
            finish_reason="error",
            raw_finish_reason=None,
            usage=None,
            error=error_expect(
                "malformed_response",
                200,
                None,
                None,
                "a stream event is not JSON",
                False,
                None,
                partial=True,
            ),
            notes=[
                "SYNTHETIC (a corrupting intermediary): a data payload that is not JSON. The"
                " stream fails as malformed_response and the text before it is kept.",
            ],
        ),
    )

    # -- non-stream function call -----------------------------------------------------------------------------------------------
    case = "tool_call_nonstream"
    request = {
        "model": "gpt-4.1",
        "input": [
            {"role": "system", "content": "Use tools when they help."},
            {"role": "user", "content": "Weather in Cape Town, celsius?"},
        ],
        "tools": [FLAT_WEATHER],
        "tool_choice": {"type": "function", "name": "get_weather"},
    }
    resp = Resp(case, "gpt-4.1-2025-04-14", created=1785504201, request=request)
    arguments = '{"location":"Cape Town, South Africa","unit":"celsius"}'
    item = {
        "id": resp.item_id("fc", 0),
        "type": "function_call",
        "status": "completed",
        "arguments": arguments,
        "call_id": "call_" + alnum(case, 24),
        "name": "get_weather",
    }
    body_obj = resp.response("completed", [item], resp_usage(79, 23))
    hdrs = headers(case, JSON)
    write(
        d,
        case,
        request=resp_request(request),
        body=(pretty(body_obj) + "\n").encode(),
        expect=expectation(
            stream=False,
            status=200,
            hdrs=hdrs,
            response_id=resp.id,
            model=resp.model,
            tool_calls=[
                {
                    "id": item["call_id"],
                    "name": "get_weather",
                    "arguments": {"location": "Cape Town, South Africa", "unit": "celsius"},
                    "arguments_json": arguments,
                }
            ],
            finish_reason="tool_calls",
            raw_finish_reason="completed",
            usage=usage_expect(79, 23, 102, 0, 0, 0),
            notes=[
                "FORMATS §2: a function_call output item (id fc_..., call_id call_...); the"
                " normalized id is call_id. A forced tool is tool_choice {type:function, name}"
                " (flat, design §20.5).",
            ],
        ),
    )

    # -- structured output ---------------------------------------------------------------------------------------------------------
    case = "structured_output_nonstream"
    schema = {
        "type": "object",
        "properties": {"language": {"type": "string"}, "year": {"type": "integer"}},
        "required": ["language", "year"],
        "additionalProperties": False,
    }
    request = {
        "model": "gpt-4.1",
        "input": [
            {"role": "user", "content": "Which language did Guido van Rossum create, and when?"}
        ],
        "text": {
            "format": {"type": "json_schema", "name": "origin", "schema": schema, "strict": True}
        },
        "max_output_tokens": 64,
        "temperature": 0.0,
    }
    resp = Resp(case, "gpt-4.1-2025-04-14", created=1785504301, request=request)
    content = '{"language":"Python","year":1991}'
    item = {
        "id": resp.item_id("msg", 0),
        "type": "message",
        "status": "completed",
        "content": [{"type": "output_text", "annotations": [], "logprobs": [], "text": content}],
        "role": "assistant",
    }
    body_obj = resp.response("completed", [item], resp_usage(58, 11))
    hdrs = headers(case, JSON)
    write(
        d,
        case,
        request=resp_request(request),
        body=(pretty(body_obj) + "\n").encode(),
        expect=expectation(
            stream=False,
            status=200,
            hdrs=hdrs,
            response_id=resp.id,
            model=resp.model,
            output_text=content,
            finish_reason="stop",
            raw_finish_reason="completed",
            usage=usage_expect(58, 11, 69, 0, 0, 0),
            notes=[
                "FORMATS §2: text.format {type:json_schema,name,strict,schema} is flat (unlike"
                " Chat Completions); max_tokens is sent as max_output_tokens.",
            ],
        ),
    )

    # -- cached tokens + reasoning, non-stream -------------------------------------------------------------------------------------
    case = "cached_reasoning_nonstream"
    request = {
        "model": "gpt-5",
        "input": [
            {"role": "system", "content": "[... ~1600 tokens of style guide ...]"},
            {"role": "user", "content": "Rewrite 'utilize' in plain English."},
        ],
        "reasoning": {"effort": "low"},
        "text": {"verbosity": "low"},
    }
    resp = Resp(case, "gpt-5-2025-08-07", created=1785504401, request=request)
    reasoning_item = {"id": resp.item_id("rs", 0), "type": "reasoning", "summary": []}
    message_item = {
        "id": resp.item_id("msg", 0),
        "type": "message",
        "status": "completed",
        "content": [{"type": "output_text", "annotations": [], "logprobs": [], "text": "Use."}],
        "role": "assistant",
    }
    body_obj = resp.response(
        "completed",
        [reasoning_item, message_item],
        resp_usage(1702, 331, cached=1536, reasoning=320),
    )
    hdrs = headers(case, JSON)
    write(
        d,
        case,
        request=resp_request(request),
        body=(pretty(body_obj) + "\n").encode(),
        expect=expectation(
            stream=False,
            status=200,
            hdrs=hdrs,
            response_id=resp.id,
            model=resp.model,
            output_text="Use.",
            finish_reason="stop",
            raw_finish_reason="completed",
            usage=usage_expect(1702, 331, 2033, 1536, 0, 320),
            notes=[
                "FORMATS §2 usage: input_tokens includes the 1536 cached tokens; output_tokens"
                " includes the 320 reasoning tokens.",
                "A reasoning item with an empty summary (no summary requested): no visible"
                " reasoning text. reasoning.effort and text.verbosity are design §20.1 controls.",
            ],
        ),
    )

    # -- events to tolerate ---------------------------------------------------------------------------------------------------------
    case = "unknown_events_stream"
    request = {
        "model": "gpt-4.1",
        "input": [{"role": "user", "content": "Cite the RFC that defines HTTP semantics."}],
        "stream": True,
    }
    resp = Resp(case, "gpt-4.1-2025-04-14", created=1785504501, request=request)
    resp.emit("response.queued", response=resp.response("queued", [], None))
    resp.open()
    item_id = resp.item_id("msg", 0)
    resp.emit(
        "response.output_item.added",
        item={
            "id": item_id,
            "type": "message",
            "status": "in_progress",
            "content": [],
            "role": "assistant",
        },
        output_index=0,
    )
    resp.emit(
        "response.content_part.added",
        content_index=0,
        item_id=item_id,
        output_index=0,
        part={"type": "output_text", "annotations": [], "logprobs": [], "text": ""},
    )
    pieces = ["RFC", " 9110", " defines", " HTTP", " semantics", "."]
    for piece in pieces:
        resp.emit(
            "response.output_text.delta",
            content_index=0,
            delta=piece,
            item_id=item_id,
            logprobs=[],
            obfuscation=resp.obfuscation(),
            output_index=0,
        )
    annotation = {
        "type": "url_citation",
        "end_index": 8,
        "start_index": 0,
        "title": "RFC 9110: HTTP Semantics",
        "url": "https://www.rfc-editor.org/rfc/rfc9110",
    }
    resp.emit(
        "response.output_text.annotation.added",
        annotation=annotation,
        annotation_index=0,
        content_index=0,
        item_id=item_id,
        output_index=0,
    )
    text = "".join(pieces)
    resp.emit(
        "response.output_text.done",
        content_index=0,
        item_id=item_id,
        logprobs=[],
        output_index=0,
        text=text,
    )
    part = {"type": "output_text", "annotations": [annotation], "logprobs": [], "text": text}
    resp.emit(
        "response.content_part.done", content_index=0, item_id=item_id, output_index=0, part=part
    )
    item = {
        "id": item_id,
        "type": "message",
        "status": "completed",
        "content": [part],
        "role": "assistant",
    }
    resp.emit("response.output_item.done", item=item, output_index=0)
    resp.emit("response.completed", response=resp.response("completed", [item], resp_usage(24, 8)))
    hdrs = headers(case, SSE)
    write(
        d,
        case,
        request=resp_request(request),
        body=resp.body(),
        expect=expectation(
            stream=True,
            status=200,
            hdrs=hdrs,
            response_id=resp.id,
            model=resp.model,
            output_text=text,
            finish_reason="stop",
            raw_finish_reason="completed",
            usage=usage_expect(24, 8, 32, 0, 0, 0),
            notes=[
                "FORMATS §2: response.queued and response.output_text.annotation.added are"
                " among the event types a client must tolerate; unknown types are skipped.",
            ],
        ),
    )


if __name__ == "__main__":
    chat_cases()
    responses_cases()
