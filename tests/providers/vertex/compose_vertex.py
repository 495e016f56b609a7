"""Writes the Vertex transcripts composed here (run ``python -m tests.providers.vertex.compose_vertex``
to regenerate them): Gemini models' whole thinking answer, a 429 to a non-streaming request, a
whole body and an HTML page served to a streaming request; Claude models' whole tool call,
thinking both ways, usage with cache reads, a length stop, errors in both of Vertex's shapes
(Google's front end and Anthropic's envelope) and the same odd bodies. The other Vertex
transcripts beside them were written by hand. Each names the documentation it follows; nothing
here was recorded from a live service."""

from __future__ import annotations

import json
from typing import Any

from tests.providers.recorded import write

PROJECT = "projects/allm-test-project/locations"
GEMINI_GLOBAL = f"https://aiplatform.googleapis.com/v1/{PROJECT}/global/publishers/google/models"
GEMINI_REGION = f"https://us-central1-aiplatform.googleapis.com/v1/{PROJECT}/us-central1/publishers/google/models"
HEADERS = {"authorization": "Bearer ${VERTEX_ACCESS_TOKEN}", "content-type": "application/json"}
GOOGLE_JSON = {
    "content-type": "application/json; charset=UTF-8",
    "server": "scaffolding on HTTPServer2",
    "x-content-type-options": "nosniff",
}
INFERENCE_DOC = "https://cloud.google.com/vertex-ai/generative-ai/docs/model-reference/inference"
THINKING_DOC = "https://cloud.google.com/vertex-ai/generative-ai/docs/thinking"
QUOTA_DOC = "https://cloud.google.com/vertex-ai/generative-ai/docs/error-code-429"
ERRORS_DOC = "https://cloud.google.com/apis/design/errors"
HTML = "<!DOCTYPE html><html><body><h1>502 Bad Gateway</h1></body></html>"
THOUGHT = "**Weighing the options**\n\nA prime check needs division up to the square root.\n\n"
SIGNATURE = "CiQBVKhc7p2YzR1oQk3sWm9fTn8bLq0xA4uJg6dE5vHcYyZs"
Case = tuple[dict[str, Any], str, dict[str, Any]]


def request(url: str, body: dict[str, Any]) -> dict[str, Any]:
    return {"method": "POST", "url": url, "headers": dict(HEADERS), "body": body}


def expect(
    provider: str,
    name: str,
    stream: bool,
    notes: list[str],
    *,
    status: int = 200,
    headers: dict[str, str],
    **fields: Any,
) -> dict[str, Any]:
    """An ``expect.json`` in the shape of the hand-written Vertex transcripts."""
    out: dict[str, Any] = {
        "case": name,
        "provider": provider,
        "stream": stream,
        "http": {"status": status, "headers": headers},
        "response_id": None,
        "model": None,
        "request_id": None,
        "output_text": "",
        "reasoning_text": None,
        "refusal": None,
        "tool_calls": [],
        "finish_reason": None,
        "raw_finish_reason": None,
        "usage": None,
        "error": None,
    }
    out.update(fields)
    out["notes"] = notes
    return out


def failure(kind: str, status: int, error_type: str | None, message: str) -> dict[str, Any]:
    return {
        "kind": kind,
        "http_status": status,
        "type": error_type,
        "code": error_type,
        "message": message,
        "retryable": kind in ("rate_limit", "overloaded", "server_error"),
        "retry_after_seconds": None,
        "request_id": None,
        "partial_output": False,
    }


def usage(
    inp: int,
    out: int,
    total: int,
    *,
    cached: int | None = None,
    written: int | None = None,
    reasoning: int | None = None,
) -> dict[str, Any]:
    return {
        "input_tokens": inp,
        "output_tokens": out,
        "total_tokens": total,
        "cached_tokens": cached,
        "cache_write_tokens": written,
        "reasoning_tokens": reasoning,
    }


# -- Gemini models ----------------------------------------------------------------------------------


def gemini_body(text: str, **extra: Any) -> dict[str, Any]:
    return {"contents": [{"role": "user", "parts": [{"text": text}]}], **extra}


def gemini_answer() -> dict[str, Any]:
    return {
        "candidates": [
            {
                "content": {
                    "role": "model",
                    "parts": [{"text": "Canberra is the capital of Australia."}],
                },
                "finishReason": "STOP",
                "avgLogprobs": -0.0912,
            }
        ],
        "usageMetadata": {
            "promptTokenCount": 8,
            "candidatesTokenCount": 8,
            "thoughtsTokenCount": 45,
            "totalTokenCount": 61,
            "trafficType": "ON_DEMAND",
        },
        "modelVersion": "gemini-2.5-flash",
        "createTime": "2026-11-30T09:14:07.412093Z",
        "responseId": "pQ9LaZzKBfqn2PgPsM_x8Aj",
    }


def gemini_cases() -> dict[str, Case]:
    out: dict[str, Case] = {}
    thinking = {
        "candidates": [
            {
                "content": {
                    "role": "model",
                    "parts": [
                        {"text": THOUGHT, "thought": True},
                        {"text": "97 is prime.", "thoughtSignature": SIGNATURE},
                    ],
                },
                "finishReason": "STOP",
            }
        ],
        "usageMetadata": {
            "promptTokenCount": 12,
            "candidatesTokenCount": 5,
            "thoughtsTokenCount": 200,
            "totalTokenCount": 217,
            "trafficType": "ON_DEMAND",
        },
        "modelVersion": "gemini-2.5-pro",
        "createTime": "2026-11-30T09:14:07.412093Z",
        "responseId": "Th3MaYqBC8qu2PgP7cHQsQx",
    }
    out["thinking_nonstream"] = (
        request(
            f"{GEMINI_GLOBAL}/gemini-2.5-pro:generateContent",
            gemini_body(
                "Is 97 prime? Answer briefly.",
                generationConfig={"thinkingConfig": {"includeThoughts": True}},
            ),
        ),
        json.dumps(thinking, indent=2),
        expect(
            "vertex",
            "thinking_nonstream",
            False,
            [
                f"{THINKING_DOC}: includeThoughts returns thought summaries as parts with"
                " thought: true in the one GenerateContentResponse of generateContent;"
                " thoughtsTokenCount counts them."
            ],
            headers=dict(GOOGLE_JSON),
            response_id="Th3MaYqBC8qu2PgP7cHQsQx",
            model="gemini-2.5-pro",
            output_text="97 is prime.",
            reasoning_text=THOUGHT,
            finish_reason="stop",
            raw_finish_reason="STOP",
            usage=usage(12, 205, 217, reasoning=200),
        ),
    )
    exhausted = (
        "Resource exhausted. Please try again later. Please refer to"
        " https://cloud.google.com/vertex-ai/generative-ai/docs/error-code-429 for more details."
    )
    status = {"error": {"code": 429, "message": exhausted, "status": "RESOURCE_EXHAUSTED"}}
    out["error_429_nonstream"] = (
        request(f"{GEMINI_REGION}/gemini-2.5-flash:generateContent", gemini_body("Hello")),
        json.dumps(status, indent=2),
        expect(
            "vertex",
            "error_429_nonstream",
            False,
            [
                f"{QUOTA_DOC}: a generateContent call refused by the dynamic shared quota:"
                " 429 RESOURCE_EXHAUSTED as a google.rpc.Status, no Retry-After."
            ],
            status=429,
            headers=dict(GOOGLE_JSON),
            finish_reason="error",
            error=failure("rate_limit", 429, "RESOURCE_EXHAUSTED", exhausted),
        ),
    )
    stream_url = f"{GEMINI_REGION}/gemini-2.5-flash:streamGenerateContent?alt=sse"
    out["json_to_stream"] = (
        request(stream_url, gemini_body("What is the capital of Australia?")),
        json.dumps(gemini_answer(), indent=2),
        expect(
            "vertex",
            "json_to_stream",
            True,
            [
                f"{INFERENCE_DOC}: a whole GenerateContentResponse (a gateway's answer) served to"
                " streamGenerateContent is read as the stream's one chunk."
            ],
            headers=dict(GOOGLE_JSON),
            response_id="pQ9LaZzKBfqn2PgPsM_x8Aj",
            model="gemini-2.5-flash",
            output_text="Canberra is the capital of Australia.",
            finish_reason="stop",
            raw_finish_reason="STOP",
            usage=usage(8, 53, 61, reasoning=45),
        ),
    )
    out["html_200"] = (
        request(stream_url, gemini_body("Hello")),
        HTML,
        expect(
            "vertex",
            "html_200",
            True,
            [f"{INFERENCE_DOC}: a proxy's HTML page with status 200 is not the wire."],
            headers={"content-type": "text/html; charset=utf-8"},
            finish_reason="error",
            error={"kind": "malformed_response"},
        ),
    )
    return out


def cases() -> dict[str, dict[str, Case]]:
    """The composed cases, by directory."""
    # Imported here: the Claude cases build on this module's helpers.
    from .compose_claude import claude_cases

    return {"vertex": gemini_cases(), "vertex-anthropic": claude_cases()}


def main() -> None:
    for directory, composed in cases().items():
        write(directory, composed)


if __name__ == "__main__":
    main()
