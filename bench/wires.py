"""Canned bodies of the three wires for the benchmark: OpenAI Chat Completions, Anthropic
Messages and Gemini, streamed (one SSE event per HTTP chunk, as LLM servers write them) and not.

``serve()`` runs them on a loopback server (in its own process, so the server's work never
competes with the measured client for the GIL). ``GET /_connections`` answers with the number of
TCP connections the server accepted so far.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from allm.testing.loopback import Answer, LoopbackServer

MODELS = {"openai": "gpt-4o-mini", "anthropic": "claude-sonnet-4-5", "gemini": "gemini-2.0-flash"}
PATHS = {
    "openai": "/v1/chat/completions",
    "anthropic": "/v1/messages",
    "gemini": "/v1beta/models/gemini-2.0-flash:streamGenerateContent",
}
CALL_PATHS = {**PATHS, "gemini": "/v1beta/models/gemini-2.0-flash:generateContent"}
BASES = {"openai": "/v1", "anthropic": "/v1", "gemini": "/v1beta"}
SSE = {"content-type": "text/event-stream; charset=utf-8"}
JSON = {"content-type": "application/json"}

TEXT_CHUNKS = 20_000
TOOL_FRAGMENTS = 2_000
SMALL_CHUNKS = 20
MEMORY_CHUNKS = 500_000


def _dump(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def piece(number: int) -> str:
    """The text of one chunk: two characters, a fresh string each (never an interned one)."""
    return f"{number % 100:02d}"


# -- OpenAI Chat Completions ----------------------------------------------------------------------


def _openai_chunk(delta: dict[str, Any], finish: str | None = None) -> str:
    body = {
        "id": "chatcmpl-bench",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": MODELS["openai"],
        "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
    }
    return "data: " + _dump(body) + "\n\n"


def openai_events(chunks: int, tool: bool) -> list[str]:
    if tool:
        first = {
            "role": "assistant",
            "tool_calls": [
                {
                    "index": 0,
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "lookup", "arguments": ""},
                }
            ],
        }
        events = [_openai_chunk(first)]
        events += [
            _openai_chunk({"tool_calls": [{"index": 0, "function": {"arguments": a}}]})
            for a in tool_pieces(chunks)
        ]
        events.append(_openai_chunk({}, "tool_calls"))
    else:
        events = [_openai_chunk({"role": "assistant", "content": ""})]
        events += [_openai_chunk({"content": piece(i)}) for i in range(chunks)]
        events.append(_openai_chunk({}, "stop"))
    usage = {"prompt_tokens": 9, "completion_tokens": chunks, "total_tokens": chunks + 9}
    events.append(
        "data: " + _dump({"id": "chatcmpl-bench", "choices": [], "usage": usage}) + "\n\n"
    )
    events.append("data: [DONE]\n\n")
    return events


def openai_body() -> dict[str, Any]:
    return {
        "id": "chatcmpl-bench",
        "object": "chat.completion",
        "created": 1,
        "model": MODELS["openai"],
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "Hello there."},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 9, "completion_tokens": 3, "total_tokens": 12},
    }


# -- Anthropic Messages ---------------------------------------------------------------------------


def _anthropic_event(kind: str, data: dict[str, Any]) -> str:
    return f"event: {kind}\ndata: " + _dump({"type": kind, **data}) + "\n\n"


def anthropic_events(chunks: int, tool: bool) -> list[str]:
    message = {
        "id": "msg_bench",
        "type": "message",
        "role": "assistant",
        "model": MODELS["anthropic"],
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": {"input_tokens": 9, "output_tokens": 1},
    }
    events = [_anthropic_event("message_start", {"message": message})]
    if tool:
        block = {"type": "tool_use", "id": "toolu_1", "name": "lookup", "input": {}}
        deltas = [{"type": "input_json_delta", "partial_json": a} for a in tool_pieces(chunks)]
    else:
        block = {"type": "text", "text": ""}
        deltas = [{"type": "text_delta", "text": piece(i)} for i in range(chunks)]
    events.append(_anthropic_event("content_block_start", {"index": 0, "content_block": block}))
    events += [_anthropic_event("content_block_delta", {"index": 0, "delta": d}) for d in deltas]
    events.append(_anthropic_event("content_block_stop", {"index": 0}))
    stop = {"stop_reason": "tool_use" if tool else "end_turn", "stop_sequence": None}
    events.append(
        _anthropic_event("message_delta", {"delta": stop, "usage": {"output_tokens": chunks}})
    )
    events.append(_anthropic_event("message_stop", {}))
    return events


def anthropic_body() -> dict[str, Any]:
    return {
        "id": "msg_bench",
        "type": "message",
        "role": "assistant",
        "model": MODELS["anthropic"],
        "content": [{"type": "text", "text": "Hello there."}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": 9, "output_tokens": 3},
    }


# -- Gemini ---------------------------------------------------------------------------------------


def _gemini_event(parts: list[dict[str, Any]], finish: str | None = None) -> str:
    candidate: dict[str, Any] = {"content": {"parts": parts, "role": "model"}, "index": 0}
    if finish:
        candidate["finishReason"] = finish
    body: dict[str, Any] = {"candidates": [candidate], "modelVersion": MODELS["gemini"]}
    if finish:
        body["usageMetadata"] = {"promptTokenCount": 9, "candidatesTokenCount": 3}
    return "data: " + _dump(body) + "\r\n\r\n"


def gemini_events(chunks: int, tool: bool) -> list[str]:
    if tool:  # Gemini sends whole calls, never argument fragments: one call per chunk
        events = [
            _gemini_event([{"functionCall": {"name": "lookup", "args": {"i": i}}}])
            for i in range(chunks)
        ]
    else:
        events = [_gemini_event([{"text": piece(i)}]) for i in range(chunks)]
    events.append(_gemini_event([{"text": ""}], "STOP"))
    return events


def gemini_body() -> dict[str, Any]:
    return {
        "candidates": [
            {
                "content": {"parts": [{"text": "Hello there."}], "role": "model"},
                "finishReason": "STOP",
                "index": 0,
            }
        ],
        "usageMetadata": {"promptTokenCount": 9, "candidatesTokenCount": 3},
        "modelVersion": MODELS["gemini"],
    }


def tool_pieces(fragments: int) -> list[str]:
    """A JSON argument object cut into ``fragments`` pieces."""
    argument = _dump({"items": [f"v{i}" for i in range(fragments)]})
    size = len(argument) // fragments
    cuts = [argument[i * size : (i + 1) * size] for i in range(fragments - 1)]
    return [*cuts, argument[(fragments - 1) * size :]]


EVENTS = {"openai": openai_events, "anthropic": anthropic_events, "gemini": gemini_events}
BODIES = {"openai": openai_body, "anthropic": anthropic_body, "gemini": gemini_body}


def stream_answer(wire: str, chunks: int, tool: bool = False) -> Answer:
    """A stream, one HTTP chunk per SSE event."""
    events = [e.encode() for e in EVENTS[wire](chunks, tool)]
    offsets, total = [], 0
    for event in events[:-1]:
        total += len(event)
        offsets.append(total)
    return Answer(headers=SSE, body=b"".join(events), chunks=offsets)


def serve(memory: bool = False) -> None:
    """Serve every workload under ``/<wire>/<workload>`` (with ``memory``, only the 500k-chunk
    streams); print the URL; stop at EOF on stdin."""
    server = LoopbackServer()
    for wire in EVENTS:
        if memory:
            server.add("POST", f"/{wire}/memory{PATHS[wire]}", stream_answer(wire, MEMORY_CHUNKS))
            continue
        for workload, answer in (
            ("text", stream_answer(wire, TEXT_CHUNKS)),
            ("tool", stream_answer(wire, TOOL_FRAGMENTS, tool=True)),
            ("small", stream_answer(wire, SMALL_CHUNKS)),
        ):
            server.add("POST", f"/{wire}/{workload}{PATHS[wire]}", answer)
        body = _dump(BODIES[wire]()).encode()
        server.add("POST", f"/{wire}/call{CALL_PATHS[wire]}", headers=JSON, body=body)
    server.route(
        "GET", "/_connections", lambda _: Answer(headers=JSON, body=b"%d" % server.connections)
    )
    with server:
        print(server.url, flush=True)
        sys.stdin.read()


if __name__ == "__main__":
    serve(memory="memory" in sys.argv[1:])
