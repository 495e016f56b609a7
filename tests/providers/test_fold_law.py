"""``generate == fold(stream_generate)`` on every wave-2 adapter and preset (Hypothesis): any
text in any pieces, a stop or a length finish, any usage counts, the stream's bytes cut anywhere.
Each wire's stream and its whole twin are written here from the documented shapes the
transcripts use: the generated answer equals the fold of the stream on the same bytes, and the
non-streaming answer to the whole body has the same text, finish and usage."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.providers.bedrock.eventstream import event as bedrock_event
from tests.providers.vertex.support import PROJECT, credentials

import allm
from allm.providers.azure import AzureOpenAI
from allm.providers.bedrock import Bedrock
from allm.providers.mistral import Mistral
from allm.providers.ollama import Ollama
from allm.providers.presets import PRESET_CLASSES
from allm.providers.vertex import Vertex

SSE = "text/event-stream"
JSON = "application/json"


@dataclass(frozen=True)
class Answer:
    """What the model says: text pieces, how it ended, the token counts."""

    pieces: list[str]
    length: bool
    tokens_in: int
    tokens_out: int

    @property
    def text(self) -> str:
        return "".join(self.pieces)


def _sse(payload: Any, kind: str | None = None) -> str:
    head = f"event: {kind}\n" if kind else ""
    return f"{head}data: {json.dumps(payload)}\n\n"


# -- the wires: (stream body, its content type, whole body) ------------------------------------------


def chat_wire(answer: Answer) -> tuple[bytes, str, bytes]:
    """OpenAI Chat Completions (Azure, Mistral, every preset)."""
    finish = "length" if answer.length else "stop"
    usage = {
        "prompt_tokens": answer.tokens_in,
        "completion_tokens": answer.tokens_out,
        "total_tokens": answer.tokens_in + answer.tokens_out,
    }
    head = {"id": "chatcmpl-law", "object": "chat.completion.chunk", "model": "m"}

    def chunk(delta: dict[str, Any], reason: str | None = None) -> str:
        return _sse({**head, "choices": [{"index": 0, "delta": delta, "finish_reason": reason}]})

    body = chunk({"role": "assistant", "content": ""})
    body += "".join(chunk({"content": piece}) for piece in answer.pieces)
    body += chunk({}, finish) + _sse({**head, "choices": [], "usage": usage}) + "data: [DONE]\n\n"
    whole = {
        "id": "chatcmpl-law",
        "object": "chat.completion",
        "model": "m",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": answer.text},
                "finish_reason": finish,
            }
        ],
        "usage": usage,
    }
    return body.encode(), SSE, json.dumps(whole).encode()


def ollama_wire(answer: Answer) -> tuple[bytes, str, bytes]:
    """Ollama's native ``/api/chat`` NDJSON."""
    base = {"model": "m", "created_at": "2026-12-06T10:00:00Z"}
    end = {
        "done": True,
        "done_reason": "length" if answer.length else "stop",
        "prompt_eval_count": answer.tokens_in,
        "eval_count": answer.tokens_out,
    }
    lines = [
        {**base, "message": {"role": "assistant", "content": piece}, "done": False}
        for piece in answer.pieces
    ]
    lines.append({**base, "message": {"role": "assistant", "content": ""}, **end})
    body = "".join(json.dumps(line) + "\n" for line in lines)
    whole = {**base, "message": {"role": "assistant", "content": answer.text}, **end}
    return body.encode(), "application/x-ndjson", json.dumps(whole).encode()


def bedrock_wire(answer: Answer) -> tuple[bytes, str, bytes]:
    """Converse and ConverseStream (AWS event-stream frames)."""
    stop = "max_tokens" if answer.length else "end_turn"
    usage = {
        "inputTokens": answer.tokens_in,
        "outputTokens": answer.tokens_out,
        "totalTokens": answer.tokens_in + answer.tokens_out,
    }
    frames = [bedrock_event("messageStart", {"role": "assistant"})]
    frames += [
        bedrock_event("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": piece}})
        for piece in answer.pieces
    ]
    frames += [
        bedrock_event("contentBlockStop", {"contentBlockIndex": 0}),
        bedrock_event("messageStop", {"stopReason": stop}),
        bedrock_event("metadata", {"usage": usage, "metrics": {"latencyMs": 9}}),
    ]
    whole = {
        "output": {"message": {"role": "assistant", "content": [{"text": answer.text}]}},
        "stopReason": stop,
        "usage": usage,
    }
    return b"".join(frames), "application/vnd.amazon.eventstream", json.dumps(whole).encode()


def gemini_wire(answer: Answer) -> tuple[bytes, str, bytes]:
    """Gemini models on Vertex (``streamGenerateContent?alt=sse``, ``generateContent``)."""
    usage = {
        "promptTokenCount": answer.tokens_in,
        "candidatesTokenCount": answer.tokens_out,
        "totalTokenCount": answer.tokens_in + answer.tokens_out,
    }
    finish = "MAX_TOKENS" if answer.length else "STOP"

    def response(text: str, last: bool) -> dict[str, Any]:
        candidate: dict[str, Any] = {"content": {"role": "model", "parts": [{"text": text}]}}
        if last:
            candidate["finishReason"] = finish
        return {"candidates": [candidate], "usageMetadata": usage, "responseId": "law"}

    pieces = answer.pieces
    body = "".join(_sse(response(p, i == len(pieces) - 1)) for i, p in enumerate(pieces))
    return body.encode(), SSE, json.dumps(response(answer.text, True)).encode()


def anthropic_wire(answer: Answer) -> tuple[bytes, str, bytes]:
    """Claude models on Vertex (``streamRawPredict``, ``rawPredict``)."""
    stop = "max_tokens" if answer.length else "end_turn"
    message = {"id": "msg_law", "type": "message", "role": "assistant", "model": "claude"}
    start = {**message, "content": [], "usage": {"input_tokens": answer.tokens_in}}
    body = _sse({"type": "message_start", "message": start}, "message_start")
    block = {"type": "content_block_start", "index": 0, "content_block": {"type": "text"}}
    body += _sse({**block, "content_block": {"type": "text", "text": ""}}, "content_block_start")
    for piece in answer.pieces:
        delta = {"type": "content_block_delta", "index": 0}
        body += _sse({**delta, "delta": {"type": "text_delta", "text": piece}}, delta["type"])
    body += _sse({"type": "content_block_stop", "index": 0}, "content_block_stop")
    end = {"delta": {"stop_reason": stop}, "usage": {"output_tokens": answer.tokens_out}}
    body += _sse({"type": "message_delta", **end}, "message_delta")
    body += _sse({"type": "message_stop"}, "message_stop")
    whole = {
        **message,
        "content": [{"type": "text", "text": answer.text}],
        "stop_reason": stop,
        "usage": {"input_tokens": answer.tokens_in, "output_tokens": answer.tokens_out},
    }
    return body.encode(), SSE, json.dumps(whole).encode()


@dataclass(frozen=True)
class Target:
    """An adapter, the model it is called with and the wire it speaks."""

    make: Callable[[], Any]
    model: str
    wire: Callable[[Answer], tuple[bytes, str, bytes]]
    opts: Callable[[], dict[str, Any]] = dict


def _vertex_opts() -> dict[str, Any]:
    return {"credentials": credentials(), "project": PROJECT, "location": "us-central1"}


TARGETS: dict[str, Target] = {
    "azure": Target(lambda: AzureOpenAI(resource="contoso"), "gpt-4o-prod", chat_wire),
    "mistral": Target(Mistral, "mistral-small-latest", chat_wire),
    "ollama": Target(Ollama, "llama3.2", ollama_wire),
    "bedrock": Target(
        lambda: Bedrock(region="us-east-1"),
        "anthropic.claude-3-5-sonnet-20241022-v2:0",
        bedrock_wire,
    ),
    "vertex-gemini": Target(Vertex, "gemini-2.5-flash", gemini_wire, _vertex_opts),
    "vertex-anthropic": Target(Vertex, "claude-sonnet-4-5@20250929", anthropic_wire, _vertex_opts),
    **{name: Target(cls, "m", chat_wire) for name, cls in PRESET_CLASSES.items()},
}


def _engine(target: Target, status_body: tuple[bytes, str], cuts: list[int]) -> allm.Engine:
    body, content_type = status_body
    offsets = sorted({c for c in cuts if 0 < c < len(body)})
    pieces = [body[a:b] for a, b in zip([0, *offsets], [*offsets, len(body)], strict=True)]

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-type": content_type}, content=iter(pieces))

    client = httpx.Client(transport=httpx.MockTransport(answer))
    return allm.Engine(
        adapter=target.make(),
        model=target.model,
        adapter_opts={"http_client": client, **target.opts()},
        retry=False,
    )


_answers = st.builds(
    Answer,
    pieces=st.lists(st.text(min_size=1, max_size=12), min_size=1, max_size=6),
    length=st.booleans(),
    tokens_in=st.integers(0, 5000),
    tokens_out=st.integers(1, 5000),
)
FIELDS = ("text", "finish_reason", "raw_finish_reason", "usage", "tool_calls", "id", "model")


@pytest.mark.parametrize("name", sorted(TARGETS))
@settings(max_examples=15, deadline=None)
@given(answer=_answers, cuts=st.lists(st.integers(1, 600), max_size=8))
def test_generate_is_the_fold_of_the_stream(name: str, answer: Answer, cuts: list[int]) -> None:
    target = TARGETS[name]
    stream, content_type, whole = target.wire(answer)
    call = {"api_key": "law-key-0001"}
    folded = allm.stream_generate(
        _engine(target, (stream, content_type), cuts), [allm.user("hi")], **call
    ).collect()
    generated = allm.generate(
        _engine(target, (stream, content_type), cuts), [allm.user("hi")], **call
    )
    assert [getattr(generated, f) for f in FIELDS] == [getattr(folded, f) for f in FIELDS]
    assert "error" not in folded.metadata, folded.metadata.get("error")
    assert folded.text == answer.text
    assert folded.finish_reason == ("length" if answer.length else "stop")
    assert (folded.usage.input_tokens, folded.usage.output_tokens) == (
        answer.tokens_in,
        answer.tokens_out,
    )
    not_streamed = allm.generate(
        _engine(target, (whole, JSON), []), [allm.user("hi")], streaming=False, **call
    )
    assert (not_streamed.text, not_streamed.finish_reason) == (folded.text, folded.finish_reason)
    assert not_streamed.usage.input_tokens == folded.usage.input_tokens
    assert not_streamed.usage.output_tokens == folded.usage.output_tokens
    assert not_streamed.usage.total_tokens == folded.usage.total_tokens
