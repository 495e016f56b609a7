"""Writes the Azure OpenAI transcripts under tests/fixtures/wire/azure/ (run
``python -m tests.providers.azure.compose_azure`` to regenerate them), each composed from the
Azure documentation page named in its notes; the Responses bodies are the OpenAI Responses
transcripts (the same wire) served from an Azure resource."""

from __future__ import annotations

import json
from typing import Any

from tests.providers.recorded import chat_body, expect, write
from tests.providers.wire import FIXTURES

ROOT = "https://contoso.openai.azure.com"
DEPLOYMENT = "gpt-4o-prod"
MODEL = "gpt-4o-2024-11-20"
CHAT_DOC = (
    "https://learn.microsoft.com/en-us/azure/ai-foundry/openai/reference (chat completions,"
    " the v1 API at /openai/v1/ and the api-key header)"
)
FILTER_DOC = (
    "https://learn.microsoft.com/en-us/azure/ai-foundry/openai/concepts/content-filter"
    " (prompt_filter_results, content_filter_results, finish_reason content_filter, the 400"
    " error with innererror ResponsibleAIPolicyViolation)"
)
STREAM_DOC = (
    "https://learn.microsoft.com/en-us/azure/ai-foundry/openai/concepts/content-streaming"
    " (the prompt annotation chunk with empty choices first in a stream)"
)
RESPONSES_DOC = "https://learn.microsoft.com/en-us/azure/ai-foundry/openai/how-to/responses"
REASONING_DOC = (
    "https://learn.microsoft.com/en-us/azure/ai-foundry/openai/how-to/reasoning (reasoning"
    " summaries on the Responses API: a reasoning output item whose summary holds summary_text"
    " parts, then the message; output_tokens_details.reasoning_tokens)"
)
QUOTA_DOC = (
    "https://learn.microsoft.com/en-us/azure/ai-foundry/openai/quotas-limits (429, Retry-After)"
)
SAFE = {"filtered": False, "severity": "safe"}
FILTERS = {"hate": SAFE, "self_harm": SAFE, "sexual": SAFE, "violence": SAFE}
HEADERS = {"apim-request-id": "5f1c-azure", "x-request-id": "req-azure-1"}


def sse(payload: Any) -> str:
    return f"data: {payload if isinstance(payload, str) else json.dumps(payload)}\n\n"


def prompt_filter_chunk() -> str:
    return sse(
        {
            "choices": [],
            "created": 0,
            "id": "",
            "model": "",
            "object": "",
            "prompt_filter_results": [{"prompt_index": 0, "content_filter_results": FILTERS}],
        }
    )


def chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> str:
    return sse(
        {
            "choices": [
                {
                    "content_filter_results": FILTERS if delta.get("content") else {},
                    "delta": delta,
                    "finish_reason": finish,
                    "index": 0,
                    "logprobs": None,
                }
            ],
            "created": 1765000000,
            "id": "chatcmpl-azure-1",
            "model": MODEL,
            "object": "chat.completion.chunk",
            "system_fingerprint": "fp_azure",
            **extra,
        }
    )


def usage_chunk() -> str:
    return sse(
        {
            "choices": [],
            "created": 1765000000,
            "id": "chatcmpl-azure-1",
            "model": MODEL,
            "object": "chat.completion.chunk",
            "usage": {
                "prompt_tokens": 9,
                "completion_tokens": 3,
                "total_tokens": 12,
                "prompt_tokens_details": {"cached_tokens": 0},
                "completion_tokens_details": {"reasoning_tokens": 0},
            },
        }
    )


USAGE = {
    "input_tokens": 9,
    "output_tokens": 3,
    "total_tokens": 12,
    "cached_tokens": 0,
    "reasoning_tokens": 0,
}


def request(
    stream: bool,
    *,
    tools: bool = False,
    url: str | None = None,
    **allm_extra: Any,
) -> dict[str, Any]:
    body: dict[str, Any] = chat_body(DEPLOYMENT, tools=tools)
    if stream:
        body["stream"] = True
    extra = {"adapter_opts": {"resource": "contoso", **allm_extra.pop("adapter_opts", {})}}
    extra.update(allm_extra)
    return {
        "method": "POST",
        "url": url or f"{ROOT}/openai/v1/chat/completions",
        "body": body,
        "allm": extra,
    }


def completion(message: dict[str, Any], finish: str) -> str:
    return json.dumps(
        {
            "id": "chatcmpl-azure-1",
            "object": "chat.completion",
            "created": 1765000000,
            "model": MODEL,
            "prompt_filter_results": [{"prompt_index": 0, "content_filter_results": FILTERS}],
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "refusal": None, **message},
                    "finish_reason": finish,
                    "logprobs": None,
                    "content_filter_results": FILTERS,
                }
            ],
            "usage": {
                "prompt_tokens": 9,
                "completion_tokens": 3,
                "total_tokens": 12,
                "prompt_tokens_details": {"cached_tokens": 0},
                "completion_tokens_details": {"reasoning_tokens": 0},
            },
        },
        indent=1,
    )


def ok(name: str, doc: str, stream: bool, **fields: Any) -> dict[str, Any]:
    return expect(
        "azure",
        name,
        doc,
        stream=stream,
        content_type="text/event-stream" if stream else "application/json",
        headers=HEADERS,
        response_id="chatcmpl-azure-1",
        model=MODEL,
        request_id="req-azure-1",
        **fields,
    )


def failed(
    name: str, doc: str, status: int, kind: str, stream: bool = True, **fields: Any
) -> dict[str, Any]:
    return expect(
        "azure",
        name,
        doc,
        stream=stream,
        status=status,
        content_type=fields.pop("content_type", "application/json"),
        headers=fields.pop("headers", {"x-request-id": "req-azure-err"}),
        finish_reason="error",
        error={"kind": kind, "http_status": status, **fields.pop("error_extra", {})},
        **fields,
    )


def openai_responses(name: str) -> tuple[bytes, dict[str, Any]]:
    folder = FIXTURES / "openai-responses"
    recorded = json.loads((folder / f"{name}.expect.json").read_text())
    return (folder / f"{name}.response").read_bytes(), recorded


def responses_case(
    name: str, source: str, stream: bool, **params: Any
) -> tuple[dict[str, Any], bytes, dict[str, Any]]:
    body, recorded = openai_responses(source)
    request_body: dict[str, Any] = {"model": DEPLOYMENT}
    if stream:
        request_body["stream"] = True
    request_json = {
        "method": "POST",
        "url": f"{ROOT}/openai/v1/responses",
        "body": {**request_body, "input": [{"role": "user", "content": "Say hello"}]},
        "allm": {
            "adapter_opts": {"resource": "contoso", "endpoint": "responses"},
            "params": params,
        },
    }
    fields = {
        key: recorded.get(key)
        for key in (
            "response_id",
            "model",
            "output_text",
            "reasoning_text",
            "tool_calls",
            "finish_reason",
            "raw_finish_reason",
            "usage",
            "request_id",
        )
    }
    expected = expect(
        "azure",
        name,
        RESPONSES_DOC + f" (the body is tests/fixtures/wire/openai-responses/{source})",
        stream=stream,
        **fields,
    )
    expected["http"] = recorded["http"]
    return request_json, body, expected


def responses_reasoning_whole() -> tuple[dict[str, Any], str, dict[str, Any]]:
    """A whole Responses answer with a reasoning summary, as the Azure reasoning page shows it."""
    summary = "**Checking the century rule**\n\n1900 is divisible by 100 but not by 400."
    body = {
        "id": "resp_azure_reasoning_1",
        "object": "response",
        "created_at": 1765000000,
        "status": "completed",
        "error": None,
        "incomplete_details": None,
        "model": "o4-mini-2025-04-16",
        "output": [
            {
                "id": "rs_azure_1",
                "type": "reasoning",
                "summary": [{"type": "summary_text", "text": summary}],
            },
            {
                "id": "msg_azure_1",
                "type": "message",
                "status": "completed",
                "role": "assistant",
                "content": [{"type": "output_text", "annotations": [], "text": "No."}],
            },
        ],
        "reasoning": {"effort": "medium", "summary": "auto"},
        "usage": {
            "input_tokens": 19,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": 214,
            "output_tokens_details": {"reasoning_tokens": 192},
            "total_tokens": 233,
        },
    }
    request_json = {
        "method": "POST",
        "url": f"{ROOT}/openai/v1/responses",
        "body": {
            "model": "o4-mini-prod",
            "input": [{"role": "user", "content": "Was 1900 a leap year?"}],
            "reasoning": {"summary": "auto"},
        },
        "allm": {
            "adapter_opts": {"resource": "contoso", "endpoint": "responses"},
            "params": {"reasoning_summary": "auto"},
        },
    }
    expected = expect(
        "azure",
        "responses_reasoning_nonstream",
        REASONING_DOC,
        stream=False,
        headers=HEADERS,
        request_id="req-azure-1",
        response_id="resp_azure_reasoning_1",
        model="o4-mini-2025-04-16",
        output_text="No.",
        reasoning_text=summary,
        finish_reason="stop",
        raw_finish_reason="completed",
        usage={
            "input_tokens": 19,
            "output_tokens": 214,
            "total_tokens": 233,
            "cached_tokens": 0,
            "reasoning_tokens": 192,
        },
    )
    return request_json, json.dumps(body, indent=2), expected


def cases() -> dict[str, tuple[dict[str, Any], str | bytes, dict[str, Any]]]:
    out: dict[str, tuple[dict[str, Any], str | bytes, dict[str, Any]]] = {}
    text = prompt_filter_chunk() + chunk({"role": "assistant", "content": "", "refusal": None})
    text += chunk({"content": "Hello"}) + chunk({"content": " there!"}) + chunk({}, "stop")
    text += usage_chunk() + sse("[DONE]")
    fields = {
        "output_text": "Hello there!",
        "finish_reason": "stop",
        "raw_finish_reason": "stop",
        "usage": USAGE,
    }
    out["text_stream"] = (request(True), text, ok("text_stream", STREAM_DOC, True, **fields))
    out["text_nonstream"] = (
        request(False),
        completion({"content": "Hello there!"}, "stop"),
        ok("text_nonstream", CHAT_DOC, False, **fields),
    )
    legacy = f"{ROOT}/openai/deployments/{DEPLOYMENT}/chat/completions?api-version=2024-10-21"
    out["text_stream_api_version"] = (
        request(True, url=legacy, adapter_opts={"api_version": "2024-10-21"}),
        text,
        ok("text_stream_api_version", CHAT_DOC + " (the dated deployments URL)", True, **fields),
    )
    call = {"index": 0, "id": "call_azure_1", "type": "function"}
    tools = prompt_filter_chunk() + chunk({"role": "assistant", "content": None})
    tools += chunk({"tool_calls": [{**call, "function": {"name": "weather", "arguments": ""}}]})
    for part in ('{"ci', 'ty": "Os', 'lo"}'):
        tools += chunk({"tool_calls": [{"index": 0, "function": {"arguments": part}}]})
    tools += chunk({}, "tool_calls") + usage_chunk() + sse("[DONE]")
    wanted = [{"id": "call_azure_1", "name": "weather", "arguments": {"city": "Oslo"}}]
    tool_fields = {
        "tool_calls": wanted,
        "finish_reason": "tool_calls",
        "raw_finish_reason": "tool_calls",
        "usage": USAGE,
    }
    out["tool_call_stream"] = (
        request(True, tools=True),
        tools,
        ok("tool_call_stream", CHAT_DOC, True, **tool_fields),
    )
    out["tool_call_nonstream"] = (
        request(False, tools=True),
        completion(
            {
                "content": None,
                "tool_calls": [
                    {
                        "id": "call_azure_1",
                        "type": "function",
                        "function": {"name": "weather", "arguments": '{"city": "Oslo"}'},
                    }
                ],
            },
            "tool_calls",
        ),
        ok("tool_call_nonstream", CHAT_DOC, False, **tool_fields),
    )
    filtered = prompt_filter_chunk() + chunk({"role": "assistant", "content": ""})
    filtered += (
        chunk({"content": "Here is"}) + chunk({}, "content_filter") + usage_chunk() + sse("[DONE]")
    )
    out["content_filter_stream"] = (
        request(True),
        filtered,
        ok(
            "content_filter_stream",
            FILTER_DOC,
            True,
            output_text="Here is",
            finish_reason="content_filter",
            raw_finish_reason="content_filter",
            usage=USAGE,
        ),
    )
    policy = {
        "error": {
            "message": "The response was filtered due to the prompt triggering Azure OpenAI's content management policy.",
            "type": None,
            "param": "prompt",
            "code": "content_filter",
            "status": 400,
            "innererror": {
                "code": "ResponsibleAIPolicyViolation",
                "content_filter_result": {
                    **FILTERS,
                    "jailbreak": {"filtered": True, "detected": True},
                },
            },
        }
    }
    out["error_400_content_filter"] = (
        request(True),
        json.dumps(policy),
        failed("error_400_content_filter", FILTER_DOC, 400, "content_filter"),
    )
    out["error_400_content_filter_nonstream"] = (
        request(False),
        json.dumps(policy),
        failed(
            "error_400_content_filter_nonstream", FILTER_DOC, 400, "content_filter", stream=False
        ),
    )
    limit = {
        "error": {
            "code": "429",
            "message": "Requests to the ChatCompletions_Create Operation under Azure OpenAI API version 2024-10-21 have exceeded token rate limit of your current OpenAI S0 pricing tier. Please retry after 6 seconds.",
        }
    }
    out["error_429"] = (
        request(True),
        json.dumps(limit),
        failed(
            "error_429",
            QUOTA_DOC,
            429,
            "rate_limit",
            headers={"retry-after": "6"},
            error_extra={"retry_after_seconds": 6},
        ),
    )
    out["error_429_nonstream"] = (
        request(False),
        json.dumps(limit),
        failed(
            "error_429_nonstream",
            QUOTA_DOC,
            429,
            "rate_limit",
            stream=False,
            headers={"retry-after": "6"},
            error_extra={"retry_after_seconds": 6},
        ),
    )
    denied = {
        "error": {
            "code": "401",
            "message": "Access denied due to invalid subscription key or wrong API endpoint.",
        }
    }
    out["error_401_nonstream"] = (
        request(False),
        json.dumps(denied),
        failed("error_401_nonstream", CHAT_DOC, 401, "authentication", stream=False),
    )
    missing = {
        "error": {
            "code": "DeploymentNotFound",
            "message": "The API deployment for this resource does not exist.",
        }
    }
    out["error_404_deployment"] = (
        request(True),
        json.dumps(missing),
        failed("error_404_deployment", CHAT_DOC, 404, "invalid_request"),
    )
    cut = (
        prompt_filter_chunk()
        + chunk({"role": "assistant", "content": ""})
        + chunk({"content": "Hel"})
    )
    out["stream_truncated"] = (
        request(True),
        cut,
        ok(
            "stream_truncated",
            STREAM_DOC,
            True,
            output_text="Hel",
            finish_reason="error",
            error={"kind": "stream_interrupted"},
        ),
    )
    mid = prompt_filter_chunk() + chunk({"role": "assistant", "content": "Hel"})
    mid += sse(
        {
            "error": {
                "code": "server_error",
                "message": "The server had an error while processing your request.",
            }
        }
    )
    out["stream_error"] = (
        request(True),
        mid,
        ok(
            "stream_error",
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
        **fields,
    )
    whole["http"]["headers"]["content-type"] = "application/json"
    out["json_to_stream"] = (request(True), completion({"content": "Hello there!"}, "stop"), whole)
    html = failed(
        "html_200",
        CHAT_DOC + " (a proxy's HTML page instead of the wire)",
        200,
        "malformed_response",
        content_type="text/html",
    )
    html["error"].pop("http_status")
    out["html_200"] = (request(True), "<html><body><h1>Sign in</h1></body></html>", html)
    out["responses_text_stream"] = responses_case("responses_text_stream", "text_stream", True)
    out["responses_text_nonstream"] = responses_case(
        "responses_text_nonstream", "text_nonstream", False
    )
    out["responses_reasoning_stream"] = responses_case(
        "responses_reasoning_stream", "reasoning_summary_stream", True, reasoning_summary="auto"
    )
    out["responses_reasoning_nonstream"] = responses_reasoning_whole()
    return out


def main() -> None:
    write("azure", cases())


if __name__ == "__main__":
    main()
