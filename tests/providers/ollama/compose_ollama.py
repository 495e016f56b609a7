"""Writes the Ollama transcripts under tests/fixtures/wire/ollama/ (run
``python -m tests.providers.ollama.compose_ollama`` to regenerate them), each composed from the
Ollama documentation page named in its notes."""

from __future__ import annotations

import json
from typing import Any

from tests.providers.recorded import chat_body, expect, write

from allm._json import dumps
from allm.providers.ollama.decode import tool_call_id

URL = "http://localhost:11434/api/chat"
MODEL = "llama3.2"
THINKER = "qwen3:8b"
CHAT_DOC = (
    "https://github.com/ollama/ollama/blob/main/docs/api.md#generate-a-chat-completion"
    " (NDJSON lines, done/done_reason, prompt_eval_count/eval_count, options, format)"
)
STREAM_DOC = "https://docs.ollama.com/api/streaming (application/x-ndjson, one object a line)"
TOOLS_DOC = "https://docs.ollama.com/capabilities/tool-calling (whole calls, arguments as an object, no ids)"
THINK_DOC = "https://docs.ollama.com/capabilities/thinking (think: true, message.thinking)"
ERRORS_DOC = 'https://docs.ollama.com/api/errors ({"error": "..."} bodies and lines mid-stream)'
CREATED = "2026-12-06T10:00:00.000000Z"
COUNTS = {
    "total_duration": 4_883_583_458,
    "load_duration": 1_334_875,
    "prompt_eval_count": 9,
    "prompt_eval_duration": 342_546_000,
    "eval_count": 3,
    "eval_duration": 4_535_599_000,
}
USAGE = {"input_tokens": 9, "output_tokens": 3, "total_tokens": 12}


def line(message: dict[str, Any] | None = None, model: str = MODEL, **extra: Any) -> str:
    payload: dict[str, Any] = {"model": model, "created_at": CREATED}
    if message is not None:
        payload["message"] = {"role": "assistant", **message}
    payload.update({"done": False, **extra})
    return json.dumps(payload) + "\n"


def last(reason: str = "stop", model: str = MODEL, **message: Any) -> str:
    return line({"content": "", **message}, model, done=True, done_reason=reason, **COUNTS)


def whole(reason: str = "stop", model: str = MODEL, **message: Any) -> str:
    payload = json.loads(last(reason, model, **message))
    return json.dumps(payload, indent=1)


def request(
    stream: bool, *, tools: bool = False, model: str = MODEL, **params: Any
) -> dict[str, Any]:
    body: dict[str, Any] = chat_body(model, tools=tools)
    body["stream"] = stream
    body.update(params.pop("wire", {}))
    return {"method": "POST", "url": URL, "body": body, "allm": {"params": params}}


def ok(name: str, doc: str, stream: bool, model: str = MODEL, **fields: Any) -> dict[str, Any]:
    return expect(
        "ollama",
        name,
        doc,
        stream=stream,
        content_type="application/x-ndjson" if stream else "application/json; charset=utf-8",
        model=model,
        **fields,
    )


def failed(name: str, status: int, kind: str, stream: bool = True, **fields: Any) -> dict[str, Any]:
    out = expect(
        "ollama",
        name,
        fields.pop("doc", ERRORS_DOC),
        stream=stream,
        status=status,
        content_type=fields.pop("content_type", "application/json; charset=utf-8"),
        finish_reason="error",
        error={"kind": kind, "http_status": status},
        **fields,
    )
    if status == 200:
        out["error"].pop("http_status")
    return out


def cases() -> dict[str, tuple[dict[str, Any], str | bytes, dict[str, Any]]]:
    out: dict[str, tuple[dict[str, Any], str | bytes, dict[str, Any]]] = {}
    text = {
        "output_text": "Hello there!",
        "finish_reason": "stop",
        "raw_finish_reason": "stop",
        "usage": USAGE,
    }
    body = line({"content": "Hello"}) + line({"content": " there!"}) + last()
    out["text_stream"] = (
        request(
            True,
            temperature=0.2,
            max_tokens=50,
            seed=7,
            wire={"options": {"temperature": 0.2, "seed": 7, "num_predict": 50}},
        ),
        body,
        ok("text_stream", STREAM_DOC, True, **text),
    )
    out["text_nonstream"] = (
        request(False, stop=["\n\n"], wire={"options": {"stop": ["\n\n"]}}),
        whole(content="Hello there!"),
        ok("text_nonstream", CHAT_DOC, False, **text),
    )
    arguments = {"city": "Oslo"}
    calls = [{"function": {"name": "weather", "arguments": arguments}}]
    wanted = [
        {
            "id": tool_call_id(0, "weather", dumps(arguments)),
            "name": "weather",
            "arguments": arguments,
        }
    ]
    tool = {
        "tool_calls": wanted,
        "finish_reason": "tool_calls",
        "raw_finish_reason": "stop",
        "usage": USAGE,
    }
    out["tool_call_stream"] = (
        request(True, tools=True),
        line({"content": "", "tool_calls": calls}) + last(),
        ok("tool_call_stream", TOOLS_DOC, True, **tool),
    )
    out["tool_call_nonstream"] = (
        request(False, tools=True),
        whole(tool_calls=calls),
        ok("tool_call_nonstream", TOOLS_DOC, False, **tool),
    )
    body = line({"content": "", "thinking": "The user wants "}, THINKER)
    body += line({"content": "", "thinking": "a greeting."}, THINKER)
    body += (
        line({"content": "Hello"}, THINKER)
        + line({"content": " there!"}, THINKER)
        + last(model=THINKER)
    )
    thought = {**text, "reasoning_text": "The user wants a greeting."}
    out["thinking_stream"] = (
        request(True, model=THINKER, think=True, wire={"think": True}),
        body,
        ok("thinking_stream", THINK_DOC, True, model=THINKER, **thought),
    )
    out["thinking_nonstream"] = (
        request(False, model=THINKER, reasoning_effort="high", wire={"think": "high"}),
        whole(model=THINKER, content="Hello there!", thinking="The user wants a greeting."),
        ok("thinking_nonstream", THINK_DOC, False, model=THINKER, **thought),
    )
    out["length_stream"] = (
        request(True),
        line({"content": "Hello"}) + line({"content": " th"}) + last("length"),
        ok(
            "length_stream",
            CHAT_DOC,
            True,
            output_text="Hello th",
            finish_reason="length",
            raw_finish_reason="length",
            usage=USAGE,
        ),
    )
    load = json.dumps(
        {
            "model": MODEL,
            "created_at": CREATED,
            "message": {"role": "assistant", "content": ""},
            "done_reason": "load",
            "done": True,
        }
    )
    out["load_nonstream"] = (
        request(False),
        load,
        ok(
            "load_nonstream",
            CHAT_DOC + " (load a model: empty messages, done_reason load)",
            False,
            finish_reason="stop",
            raw_finish_reason="load",
        ),
    )
    schema = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
    out["structured_nonstream"] = (
        request(
            False,
            response_format={"type": "json_schema", "name": "place", "schema": schema},
            wire={"format": schema},
        ),
        whole(content='{"city": "Oslo"}'),
        ok(
            "structured_nonstream",
            CHAT_DOC + " (format: a JSON schema)",
            False,
            output_text='{"city": "Oslo"}',
            finish_reason="stop",
            raw_finish_reason="stop",
            usage=USAGE,
        ),
    )
    out["error_404_model"] = (
        request(True),
        json.dumps({"error": "model 'llama3.2' not found, try pulling it first"}),
        failed("error_404_model", 404, "invalid_request"),
    )
    out["error_429"] = (
        request(True),
        json.dumps({"error": "rate limit exceeded"}),
        failed(
            "error_429", 429, "rate_limit", doc=ERRORS_DOC + " (a proxy in front of the server)"
        ),
    )
    out["error_429_nonstream"] = (
        request(False),
        json.dumps({"error": "rate limit exceeded"}),
        failed(
            "error_429_nonstream",
            429,
            "rate_limit",
            stream=False,
            doc=ERRORS_DOC + " (a proxy in front of the server)",
        ),
    )
    out["error_503_busy_nonstream"] = (
        request(False),
        json.dumps({"error": "server busy, please try again.  maximum pending requests exceeded"}),
        failed(
            "error_503_busy_nonstream",
            503,
            "server_error",
            stream=False,
            doc=ERRORS_DOC + " (OLLAMA_MAX_QUEUE)",
        ),
    )
    out["stream_error"] = (
        request(True),
        line({"content": "Hel"})
        + json.dumps({"error": "an error was encountered while running the model: unexpected EOF"})
        + "\n",
        ok(
            "stream_error",
            ERRORS_DOC,
            True,
            output_text="Hel",
            finish_reason="error",
            error={"kind": "server_error"},
        ),
    )
    out["stream_truncated"] = (
        request(True),
        line({"content": "Hel"}) + line({"content": "lo"}),
        ok(
            "stream_truncated",
            STREAM_DOC,
            True,
            output_text="Hello",
            finish_reason="error",
            error={"kind": "stream_interrupted"},
        ),
    )
    json_body = ok(
        "json_to_stream", CHAT_DOC + " (a whole answer served to a stream request)", True, **text
    )
    json_body["http"]["headers"]["content-type"] = "application/json; charset=utf-8"
    out["json_to_stream"] = (request(True), whole(content="Hello there!"), json_body)
    out["html_200"] = (
        request(True),
        "<html><head><title>Login</title></head><body>proxy</body></html>",
        failed(
            "html_200",
            200,
            "malformed_response",
            content_type="text/html",
            doc=STREAM_DOC + " (a proxy's HTML page)",
        ),
    )
    return out


def main() -> None:
    write("ollama", cases())


if __name__ == "__main__":
    main()
