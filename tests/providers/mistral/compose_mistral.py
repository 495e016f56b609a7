"""Writes the Mistral transcripts under tests/fixtures/wire/mistral/ (run
``python -m tests.providers.mistral.compose_mistral`` to regenerate them), each composed from the
Mistral documentation page named in its notes."""

from __future__ import annotations

import json
from typing import Any

from tests.providers.recorded import chat_body, expect, write

URL = "https://api.mistral.ai/v1/chat/completions"
MODEL = "mistral-small-latest"
THINKER = "magistral-medium-latest"
CHAT_DOC = (
    "https://docs.mistral.ai/api/#tag/chat/operation/chat_completion_v1_chat_completions_post"
    " (random_seed, safe_prompt, tool_choice any, finish_reason stop/length/model_length/error/"
    "tool_calls, usage on the last chunk)"
)
TOOLS_DOC = "https://docs.mistral.ai/capabilities/function_calling/ (whole calls, 9-character ids)"
THINK_DOC = "https://docs.mistral.ai/capabilities/reasoning/ (content chunks of type thinking)"
ERRORS_DOC = (
    "https://docs.mistral.ai/api/ (error bodies: {object: error, message, type, param, code})"
)
USAGE_WIRE = {"prompt_tokens": 9, "total_tokens": 12, "completion_tokens": 3}
USAGE = {"input_tokens": 9, "output_tokens": 3, "total_tokens": 12}
ID = "cmpl-e5cc70bb28c444948073e77776eb30ef"
HEADERS = {"x-request-id": "req-mistral-1"}


def sse(payload: Any) -> str:
    return f"data: {payload if isinstance(payload, str) else json.dumps(payload)}\n\n"


def chunk(
    delta: dict[str, Any], finish: str | None = None, model: str = MODEL, **extra: Any
) -> str:
    return sse(
        {
            "id": ID,
            "object": "chat.completion.chunk",
            "created": 1765000000,
            "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            **extra,
        }
    )


def request(
    stream: bool, *, tools: bool = False, model: str = MODEL, **params: Any
) -> dict[str, Any]:
    body: dict[str, Any] = chat_body(model, tools=tools)
    if stream:
        body["stream"] = True
    wire = {key: value for key, value in params.pop("wire", {}).items()}
    body.update(wire)
    return {"method": "POST", "url": URL, "body": body, "allm": {"params": params}}


def completion(message: dict[str, Any], finish: str, model: str = MODEL) -> str:
    return json.dumps(
        {
            "id": ID,
            "object": "chat.completion",
            "created": 1765000000,
            "model": model,
            "choices": [
                {"index": 0, "message": {"role": "assistant", **message}, "finish_reason": finish}
            ],
            "usage": USAGE_WIRE,
        },
        indent=1,
    )


def ok(name: str, doc: str, stream: bool, model: str = MODEL, **fields: Any) -> dict[str, Any]:
    return expect(
        "mistral",
        name,
        doc,
        stream=stream,
        content_type="text/event-stream" if stream else "application/json",
        headers=HEADERS,
        response_id=ID,
        model=model,
        request_id="req-mistral-1",
        **fields,
    )


def failed(name: str, status: int, kind: str, stream: bool = True, **fields: Any) -> dict[str, Any]:
    return expect(
        "mistral",
        name,
        fields.pop("doc", ERRORS_DOC),
        stream=stream,
        status=status,
        content_type=fields.pop("content_type", "application/json"),
        headers=fields.pop("headers", {}),
        finish_reason="error",
        error={"kind": kind, "http_status": status},
        **fields,
    )


def cases() -> dict[str, tuple[dict[str, Any], str | bytes, dict[str, Any]]]:
    out: dict[str, tuple[dict[str, Any], str | bytes, dict[str, Any]]] = {}
    text_fields = {
        "output_text": "Hello there!",
        "finish_reason": "stop",
        "raw_finish_reason": "stop",
        "usage": USAGE,
    }
    body = chunk({"role": "assistant", "content": ""}) + chunk({"content": "Hello"})
    body += (
        chunk({"content": " there!"})
        + chunk({"content": ""}, "stop", usage=USAGE_WIRE)
        + sse("[DONE]")
    )
    out["text_stream"] = (
        request(True, seed=7, safe_prompt=True, wire={"random_seed": 7, "safe_prompt": True}),
        body,
        ok("text_stream", CHAT_DOC, True, **text_fields),
    )
    out["text_nonstream"] = (
        request(False, seed=7, wire={"random_seed": 7}),
        completion({"content": "Hello there!", "tool_calls": None}, "stop"),
        ok("text_nonstream", CHAT_DOC, False, **text_fields),
    )
    call = {
        "id": "D681PevKs",
        "function": {"name": "weather", "arguments": '{"city": "Oslo"}'},
        "index": 0,
    }
    wanted = [{"id": "D681PevKs", "name": "weather", "arguments": {"city": "Oslo"}}]
    tool_fields = {
        "tool_calls": wanted,
        "finish_reason": "tool_calls",
        "raw_finish_reason": "tool_calls",
        "usage": USAGE,
    }
    body = chunk({"role": "assistant", "content": ""})
    body += chunk({"tool_calls": [call]}, "tool_calls", usage=USAGE_WIRE) + sse("[DONE]")
    out["tool_call_stream"] = (
        request(True, tools=True, tool_choice="required", wire={"tool_choice": "any"}),
        body,
        ok("tool_call_stream", TOOLS_DOC, True, **tool_fields),
    )
    out["tool_call_nonstream"] = (
        request(False, tools=True),
        completion(
            {"content": "", "tool_calls": [{k: v for k, v in call.items() if k != "index"}]},
            "tool_calls",
        ),
        ok("tool_call_nonstream", TOOLS_DOC, False, **tool_fields),
    )
    think = [{"type": "thinking", "thinking": [{"type": "text", "text": "The user wants "}]}]
    body = chunk({"role": "assistant", "content": think}, model=THINKER)
    body += chunk(
        {"content": [{"type": "thinking", "thinking": [{"type": "text", "text": "a greeting."}]}]},
        model=THINKER,
    )
    body += chunk({"content": "Hello"}, model=THINKER) + chunk(
        {"content": [{"type": "text", "text": " there!"}]}, model=THINKER
    )
    body += chunk({"content": ""}, "stop", model=THINKER, usage=USAGE_WIRE) + sse("[DONE]")
    think_fields = {**text_fields, "reasoning_text": "The user wants a greeting."}
    out["thinking_stream"] = (
        request(True, model=THINKER),
        body,
        ok("thinking_stream", THINK_DOC, True, model=THINKER, **think_fields),
    )
    content = [
        {"type": "thinking", "thinking": [{"type": "text", "text": "The user wants a greeting."}]},
        {"type": "text", "text": "Hello there!"},
    ]
    out["thinking_nonstream"] = (
        request(False, model=THINKER),
        completion({"content": content}, "stop", model=THINKER),
        ok("thinking_nonstream", THINK_DOC, False, model=THINKER, **think_fields),
    )
    body = chunk({"role": "assistant", "content": "Hello"}) + chunk(
        {"content": " th"}, "model_length", usage=USAGE_WIRE
    )
    out["model_length_stream"] = (
        request(True),
        body + sse("[DONE]"),
        ok(
            "model_length_stream",
            CHAT_DOC,
            True,
            output_text="Hello th",
            finish_reason="length",
            raw_finish_reason="model_length",
            usage=USAGE,
        ),
    )
    out["length_nonstream"] = (
        request(False, max_tokens=3, wire={"max_tokens": 3}),
        completion({"content": "Hello th"}, "length"),
        ok(
            "length_nonstream",
            CHAT_DOC,
            False,
            output_text="Hello th",
            finish_reason="length",
            raw_finish_reason="length",
            usage=USAGE,
        ),
    )
    out["error_429"] = (
        request(True),
        json.dumps({"message": "Requests rate limit exceeded"}),
        failed("error_429", 429, "rate_limit"),
    )
    out["error_429_nonstream"] = (
        request(False),
        json.dumps({"message": "Requests rate limit exceeded"}),
        failed("error_429_nonstream", 429, "rate_limit", stream=False),
    )
    out["error_401_nonstream"] = (
        request(False),
        json.dumps({"message": "Unauthorized", "request_id": "1b2c3d"}),
        failed("error_401_nonstream", 401, "authentication", stream=False),
    )
    validation = {
        "object": "error",
        "message": {
            "detail": [
                {
                    "type": "missing",
                    "loc": ["body", "messages"],
                    "msg": "Field required",
                    "input": {},
                }
            ]
        },
        "type": "invalid_request_message_error",
        "param": None,
        "code": None,
    }
    out["error_422_validation"] = (
        request(True),
        json.dumps(validation),
        failed("error_422_validation", 422, "invalid_request"),
    )
    context = {
        "object": "error",
        "message": "Prompt contains 40012 tokens and 0 draft tokens, too large for model with 32768 maximum context length",
        "type": "invalid_request_error",
        "param": None,
        "code": None,
    }
    out["error_400_context_nonstream"] = (
        request(False),
        json.dumps(context),
        failed("error_400_context_nonstream", 400, "invalid_request", stream=False),
    )
    out["stream_truncated"] = (
        request(True),
        chunk({"role": "assistant", "content": "Hel"}) + chunk({"content": "lo"}),
        ok(
            "stream_truncated",
            CHAT_DOC,
            True,
            output_text="Hello",
            finish_reason="error",
            error={"kind": "stream_interrupted"},
        ),
    )
    body = (
        chunk({"role": "assistant", "content": "Hel"})
        + chunk({"content": ""}, "error")
        + sse("[DONE]")
    )
    out["finish_error_stream"] = (
        request(True),
        body,
        ok(
            "finish_error_stream",
            CHAT_DOC,
            True,
            output_text="Hel",
            finish_reason="error",
            error={"kind": "server_error"},
        ),
    )
    whole = ok(
        "json_to_stream",
        CHAT_DOC + " (a whole completion served to a stream request)",
        True,
        **text_fields,
    )
    whole["http"]["headers"]["content-type"] = "application/json"
    out["json_to_stream"] = (request(True), completion({"content": "Hello there!"}, "stop"), whole)
    html = failed(
        "html_200",
        200,
        "malformed_response",
        content_type="text/html",
        doc=CHAT_DOC + " (a proxy's HTML page)",
    )
    html["error"].pop("http_status")
    out["html_200"] = (request(True), "<!DOCTYPE html><html><body>Bad gateway</body></html>", html)
    return out


def main() -> None:
    write("mistral", cases())


if __name__ == "__main__":
    main()
