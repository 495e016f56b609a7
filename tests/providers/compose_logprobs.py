"""Composes the token log probability transcripts of every wire that has them (tests/fixtures/wire/
openai-chat, openai-responses, gemini, ollama: ``logprobs_stream`` and ``logprobs_nonstream``),
from each API reference's documented shapes (FORMATS.md §1, §2, §4 for the framing). Run
``python tests/providers/compose_logprobs.py`` to rewrite them.

One answer, "Paris is the capital.", five tokens with two alternatives each, written in each
wire's spelling: OpenAI Chat ``choices[].logprobs.content[]`` (streamed one token per chunk),
Responses ``output_text.logprobs`` and ``response.output_text.delta`` ``logprobs`` (the deltas
carry no ``bytes``), Gemini ``logprobsResult.chosenCandidates`` / ``topCandidates`` (proto3 JSON:
a log probability of 0 is left out), Ollama's top-level ``logprobs``. The expectations are
written here from the same data, never by running the adapter. Values are realistic but fake.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1] / "fixtures" / "wire"
SSE = "text/event-stream; charset=utf-8"
JSON = "application/json"
QUESTION = "What is the capital of France? One short sentence."
ANSWER = "Paris is the capital."
# (token, logprob, alternatives): each alternative (token, logprob), most likely first.
TOKENS: list[tuple[str, float, list[tuple[str, float]]]] = [
    ("Paris", -0.0031, [("Paris", -0.0031), ("The", -5.8125)]),
    (" is", -0.0402, [(" is", -0.0402), (",", -3.25)]),
    (" the", -0.1207, [(" the", -0.1207), (" France", -2.1875)]),
    (" capital", -0.5513, [(" capital", -0.5513), (" answer", -1.0)]),
    (".", 0.0, [(".", 0.0), ("!", -17.5)]),
]
TOP = 2


def compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def utf8(token: str) -> list[int]:
    return list(token.encode("utf-8"))


def expected_tokens(*, with_bytes: bool) -> list[dict[str, Any]]:
    """The normalized expectation: what ``Response.logprobs`` must hold."""
    return [
        {
            "token": token,
            "logprob": logprob,
            "bytes": utf8(token) if with_bytes else None,
            "top": [
                {"token": t, "logprob": lp, "bytes": utf8(t) if with_bytes else None}
                for t, lp in alternatives
            ],
        }
        for token, logprob, alternatives in TOKENS
    ]


def expect(provider: str, case: str, stream: bool, doc: str, **fields: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "case": case,
        "provider": provider,
        "stream": stream,
        "http": {"status": 200, "headers": {"content-type": SSE if stream else JSON}},
        "response_id": None,
        "model": None,
        "request_id": None,
        "output_text": ANSWER,
        "reasoning_text": None,
        "refusal": None,
        "tool_calls": [],
        "finish_reason": "stop",
        "raw_finish_reason": None,
        "usage": None,
        "error": None,
        "notes": [
            f"Composed from {doc} and FORMATS.md; not recorded from a live service.",
            "SYNTHETIC log probability values: five tokens, two alternatives each.",
        ],
    }
    out.update(fields)
    return out


Composed = dict[tuple[str, str], tuple[dict[str, Any], str, dict[str, Any]]]
_COMPOSED: Composed = {}


def write(provider: str, name: str, request: Any, body: str, expected: dict[str, Any]) -> None:
    """Record one case's three files (``cases()`` collects them, ``main`` writes them)."""
    _COMPOSED[(provider, name)] = (request, body, expected)


def cases() -> Composed:
    """Every case this script writes, by (directory, name): (request, body, expect)."""
    _COMPOSED.clear()
    chat_cases()
    responses_cases()
    gemini_cases()
    ollama_cases()
    return dict(_COMPOSED)


def main() -> None:
    for (provider, name), (request, body, expected) in cases().items():
        folder = ROOT / provider
        (folder / f"{name}.request.json").write_text(json.dumps(request, indent=2) + "\n")
        (folder / f"{name}.response").write_bytes(body.encode("utf-8"))
        (folder / f"{name}.expect.json").write_text(json.dumps(expected, indent=2) + "\n")


# -- OpenAI Chat Completions ------------------------------------------------------------------------

CHAT_DOC = "https://platform.openai.com/docs/api-reference/chat/object (choices[].logprobs.content)"
CHAT_ID = "chatcmpl-Lp7qRb2XkV9sTn4mWc8eHd1yZa6Fg"
CHAT_MODEL = "gpt-4.1-mini-2025-04-14"


def chat_entry(token: str, logprob: float, alternatives: list[tuple[str, float]]) -> Any:
    return {
        "token": token,
        "logprob": logprob,
        "bytes": utf8(token),
        "top_logprobs": [{"token": t, "logprob": lp, "bytes": utf8(t)} for t, lp in alternatives],
    }


def chat_request(stream: bool) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": "gpt-4.1-mini",
        "messages": [{"role": "user", "content": QUESTION}],
        "logprobs": True,
        "top_logprobs": TOP,
    }
    if stream:
        body["stream"] = True
        body["stream_options"] = {"include_usage": True}
    return {
        "method": "POST",
        "url": "https://api.openai.com/v1/chat/completions",
        "headers": {"Authorization": "Bearer ${OPENAI_API_KEY}"},
        "body": body,
    }


CHAT_USAGE = {"prompt_tokens": 16, "completion_tokens": 5, "total_tokens": 21}


def chat_cases() -> None:
    def chunk(delta: Any, logprobs: Any, finish: Any = None, usage: Any = None) -> str:
        choices = [{"index": 0, "delta": delta, "logprobs": logprobs, "finish_reason": finish}]
        data = {
            "id": CHAT_ID,
            "object": "chat.completion.chunk",
            "created": 1785600100,
            "model": CHAT_MODEL,
            "choices": choices if usage is None else [],
            "usage": usage,
        }
        return f"data: {compact(data)}\n\n"

    events = [chunk({"role": "assistant", "content": "", "refusal": None}, None)]
    for token, logprob, alternatives in TOKENS:
        entry = chat_entry(token, logprob, alternatives)
        events.append(chunk({"content": token}, {"content": [entry], "refusal": None}))
    events.append(chunk({}, None, "stop"))
    events.append(chunk({}, None, usage=CHAT_USAGE))
    events.append("data: [DONE]\n\n")
    usage = {"input_tokens": 16, "output_tokens": 5, "total_tokens": 21}
    fields = {
        "response_id": CHAT_ID,
        "model": CHAT_MODEL,
        "raw_finish_reason": "stop",
        "logprobs": expected_tokens(with_bytes=True),
    }
    write(
        "openai-chat",
        "logprobs_stream",
        chat_request(True),
        "".join(events),
        expect("openai-chat", "logprobs_stream", True, CHAT_DOC, usage=usage, **fields),
    )
    whole = {
        "id": CHAT_ID,
        "object": "chat.completion",
        "created": 1785600100,
        "model": CHAT_MODEL,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": ANSWER, "refusal": None},
                "logprobs": {"content": [chat_entry(*t) for t in TOKENS], "refusal": None},
                "finish_reason": "stop",
            }
        ],
        "usage": CHAT_USAGE,
    }
    write(
        "openai-chat",
        "logprobs_nonstream",
        chat_request(False),
        json.dumps(whole, indent=2) + "\n",
        expect("openai-chat", "logprobs_nonstream", False, CHAT_DOC, usage=usage, **fields),
    )


# -- OpenAI Responses -------------------------------------------------------------------------------

RESPONSES_DOC = (
    "https://platform.openai.com/docs/api-reference/responses (include "
    "message.output_text.logprobs, "
    "top_logprobs; response.output_text.delta logprobs)"
)
RESP_ID = "resp_0b6c1f27d4e84a9a8f3c5e21d7b96a4c0e1f2a3b4c5d6e7f"
MSG_ID = "msg_0b6c1f27d4e84a9a8f3c5e21d7b96a4c9a8b7c6d5e4f3a2b"
RESP_MODEL = "gpt-4.1-mini-2025-04-14"
RESP_USAGE = {
    "input_tokens": 16,
    "input_tokens_details": {"cached_tokens": 0},
    "output_tokens": 5,
    "output_tokens_details": {"reasoning_tokens": 0},
    "total_tokens": 21,
}


def responses_request(stream: bool) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": "gpt-4.1-mini",
        "input": [{"role": "user", "content": QUESTION}],
        "include": ["message.output_text.logprobs"],
        "top_logprobs": TOP,
    }
    if stream:
        body["stream"] = True
    return {
        "method": "POST",
        "url": "https://api.openai.com/v1/responses",
        "headers": {"Authorization": "Bearer ${OPENAI_API_KEY}"},
        "body": body,
    }


def responses_object(status: str) -> dict[str, Any]:
    done = status == "completed"
    part = {
        "type": "output_text",
        "annotations": [],
        "logprobs": [chat_entry(*t) for t in TOKENS],
        "text": ANSWER,
    }
    message = {
        "id": MSG_ID,
        "type": "message",
        "status": "completed",
        "content": [part],
        "role": "assistant",
    }
    return {
        "id": RESP_ID,
        "object": "response",
        "created_at": 1785600200,
        "status": status,
        "model": RESP_MODEL,
        "output": [message] if done else [],
        "top_logprobs": TOP,
        "usage": RESP_USAGE if done else None,
    }


def responses_cases() -> None:
    sequence = iter(range(100))

    def event(kind: str, **data: Any) -> str:
        return f"event: {kind}\ndata: {compact({'type': kind, **data, 'sequence_number': next(sequence)})}\n\n"

    where = {"item_id": MSG_ID, "output_index": 0, "content_index": 0}
    events = [
        event("response.created", response=responses_object("in_progress")),
        event(
            "response.output_item.added",
            item={"id": MSG_ID, "type": "message", "status": "in_progress", "content": []},
            output_index=0,
        ),
    ]
    for token, logprob, alternatives in TOKENS:
        delta_logprobs = [
            {
                "token": token,
                "logprob": logprob,
                "top_logprobs": [{"token": t, "logprob": lp} for t, lp in alternatives],
            }
        ]
        events.append(
            event("response.output_text.delta", delta=token, logprobs=delta_logprobs, **where)
        )
    full = [chat_entry(*t) for t in TOKENS]
    events.append(event("response.output_text.done", text=ANSWER, logprobs=full, **where))
    events.append(event("response.completed", response=responses_object("completed")))
    usage = {
        "input_tokens": 16,
        "output_tokens": 5,
        "total_tokens": 21,
        "cached_tokens": 0,
        "cache_write_tokens": None,
        "reasoning_tokens": 0,
    }
    fields = {
        "response_id": RESP_ID,
        "model": RESP_MODEL,
        "raw_finish_reason": "completed",
        "usage": usage,
    }
    notes = ["The stream's delta logprobs carry no bytes; the whole response's do."]
    streamed = expect(
        "openai-responses",
        "logprobs_stream",
        True,
        RESPONSES_DOC,
        logprobs=expected_tokens(with_bytes=False),
        **fields,
    )
    streamed["notes"] += notes
    write("openai-responses", "logprobs_stream", responses_request(True), "".join(events), streamed)
    write(
        "openai-responses",
        "logprobs_nonstream",
        responses_request(False),
        json.dumps(responses_object("completed"), indent=2) + "\n",
        expect(
            "openai-responses",
            "logprobs_nonstream",
            False,
            RESPONSES_DOC,
            logprobs=expected_tokens(with_bytes=True),
            **fields,
        ),
    )


# -- Gemini -----------------------------------------------------------------------------------------

GEMINI_DOC = (
    "https://ai.google.dev/api/generate-content (GenerationConfig.responseLogprobs / logprobs, "
    "Candidate.logprobsResult)"
)
GEMINI_ID = "Lq9zaJrWBpC3nvgPw6ajqQk"


def gemini_candidate(token: str, logprob: float) -> dict[str, Any]:
    out: dict[str, Any] = {"token": token}
    if logprob != 0.0:  # proto3 JSON leaves a zero out
        out["logProbability"] = logprob
    return out


def gemini_result(tokens: list[tuple[str, float, list[tuple[str, float]]]]) -> dict[str, Any]:
    return {
        "topCandidates": [
            {"candidates": [gemini_candidate(t, lp) for t, lp in alternatives]}
            for _, _, alternatives in tokens
        ],
        "chosenCandidates": [gemini_candidate(t, lp) for t, lp, _ in tokens],
        "logProbabilitySum": round(sum(lp for _, lp, _ in tokens), 4),
    }


def gemini_request(stream: bool) -> dict[str, Any]:
    method = "streamGenerateContent?alt=sse" if stream else "generateContent"
    return {
        "method": "POST",
        "url": f"https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:{method}",
        "headers": {"x-goog-api-key": "${GEMINI_API_KEY}", "Content-Type": "application/json"},
        "body": {
            "contents": [{"role": "user", "parts": [{"text": QUESTION}]}],
            "generationConfig": {"responseLogprobs": True, "logprobs": TOP},
        },
    }


def gemini_payload(
    tokens: list[tuple[str, float, list[tuple[str, float]]]], count: int, finish: bool
) -> dict[str, Any]:
    candidate: dict[str, Any] = {
        "content": {"parts": [{"text": "".join(t for t, _, _ in tokens)}], "role": "model"},
        "index": 0,
        "logprobsResult": gemini_result(tokens),
    }
    if finish:
        candidate["finishReason"] = "STOP"
        candidate["avgLogprobs"] = round(sum(lp for _, lp, _ in TOKENS) / len(TOKENS), 4)
    return {
        "candidates": [candidate],
        "usageMetadata": {
            "promptTokenCount": 11,
            "candidatesTokenCount": count,
            "totalTokenCount": 11 + count,
        },
        "modelVersion": "gemini-2.5-flash",
        "responseId": GEMINI_ID,
    }


def gemini_cases() -> None:
    usage = {
        "input_tokens": 11,
        "output_tokens": 5,
        "total_tokens": 16,
        "cached_tokens": None,
        "cache_write_tokens": None,
        "reasoning_tokens": None,
    }
    fields = {
        "response_id": GEMINI_ID,
        "model": "gemini-2.5-flash",
        "raw_finish_reason": "STOP",
        "usage": usage,
        "logprobs": expected_tokens(with_bytes=False),
    }
    chunks = [(TOKENS[:2], 2, False), (TOKENS[2:4], 4, False), (TOKENS[4:], 5, True)]
    body = "".join(
        f"data: {compact(gemini_payload(part, count, finish))}\n\n"
        for part, count, finish in chunks
    )
    write(
        "gemini",
        "logprobs_stream",
        gemini_request(True),
        body,
        expect("gemini", "logprobs_stream", True, GEMINI_DOC, **fields),
    )
    write(
        "gemini",
        "logprobs_nonstream",
        gemini_request(False),
        json.dumps(gemini_payload(TOKENS, 5, True), indent=2) + "\n",
        expect("gemini", "logprobs_nonstream", False, GEMINI_DOC, **fields),
    )


# -- Ollama -----------------------------------------------------------------------------------------

OLLAMA_DOC = "https://docs.ollama.com/api/chat (logprobs, top_logprobs)"


def ollama_request(stream: bool) -> dict[str, Any]:
    return {
        "method": "POST",
        "url": "http://localhost:11434/api/chat",
        "headers": {"Content-Type": "application/json"},
        "body": {
            "model": "llama3.2",
            "messages": [{"role": "user", "content": QUESTION}],
            "stream": stream,
            "logprobs": True,
            "top_logprobs": TOP,
        },
        "allm": {"params": {"logprobs": TOP}},
    }


def ollama_cases() -> None:
    done = {
        "done": True,
        "done_reason": "stop",
        "total_duration": 401233000,
        "prompt_eval_count": 31,
        "eval_count": 5,
    }

    def line(content: str, entries: list[Any], final: bool) -> dict[str, Any]:
        out: dict[str, Any] = {
            "model": "llama3.2",
            "created_at": "2026-11-20T10:00:00.000000Z",
            "message": {"role": "assistant", "content": content},
            "done": False,
        }
        if entries:
            out["logprobs"] = entries
        if final:
            out.update(done)
        return out

    lines = [line(t, [chat_entry(t, lp, alt)], False) for t, lp, alt in TOKENS]
    lines.append(line("", [], True))
    usage = {
        "input_tokens": 31,
        "output_tokens": 5,
        "total_tokens": 36,
        "cached_tokens": None,
        "cache_write_tokens": None,
        "reasoning_tokens": None,
    }
    fields = {
        "model": "llama3.2",
        "raw_finish_reason": "stop",
        "usage": usage,
        "logprobs": expected_tokens(with_bytes=True),
    }
    stream_expect = expect("ollama", "logprobs_stream", True, OLLAMA_DOC, **fields)
    stream_expect["http"]["headers"]["content-type"] = "application/x-ndjson"
    write(
        "ollama",
        "logprobs_stream",
        ollama_request(True),
        "".join(compact(item) + "\n" for item in lines),
        stream_expect,
    )
    whole = line(ANSWER, [chat_entry(*t) for t in TOKENS], True)
    write(
        "ollama",
        "logprobs_nonstream",
        ollama_request(False),
        compact(whole) + "\n",
        expect("ollama", "logprobs_nonstream", False, OLLAMA_DOC, **fields),
    )


if __name__ == "__main__":
    main()
