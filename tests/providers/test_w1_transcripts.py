"""Citations, server tool calls and returned images, folded from each provider's documented
answer shapes (tests/fixtures/w1, one file per case, each naming the documentation it follows):
the whole body (``streaming=False``) and the stream, through the sync and the async API, fold
to the same W1 fields, and the stream folds the same however the bytes are cut."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.providers.bedrock.eventstream import event as bedrock_event
from tests.providers.vertex.support import PROJECT, credentials

import allm
from allm import provider_tools
from allm.events import CitationAdded, ServerToolCallCompleted
from allm.providers.vertex import Vertex

CASES = Path(__file__).resolve().parent.parent / "fixtures" / "w1"
NAMES = sorted(path.stem for path in CASES.glob("*.json"))
SSE = "text/event-stream; charset=utf-8"

# Each wire: the engine's adapter, model and options, and how its stream is framed.
WIRES: dict[str, dict[str, Any]] = {
    "openai-chat": {"adapter": "openai", "model": "gpt-4o-search-preview", "framing": "data"},
    "openrouter": {"adapter": "openrouter", "model": "openai/gpt-4o:online", "framing": "data"},
    "openai-responses": {
        "adapter": "openai",
        "model": "gpt-5",
        "opts": {"endpoint": "responses"},
        "framing": "typed",
    },
    "azure-responses": {
        "adapter": "azure",
        "model": "my-gpt-5",
        "opts": {"resource": "contoso", "endpoint": "responses"},
        "framing": "typed",
    },
    "anthropic": {"adapter": "anthropic", "model": "claude-sonnet-4-5", "framing": "typed"},
    "vertex-claude": {
        "adapter": "vertex",
        "model": "claude-sonnet-4-5@20250929",
        "framing": "typed",
    },
    "gemini": {"adapter": "gemini", "model": "gemini-2.5-flash", "framing": "gemini"},
    "vertex-gemini": {"adapter": "vertex", "model": "gemini-2.5-flash", "framing": "gemini"},
    "bedrock": {"adapter": "bedrock", "opts": {"region": "us-east-1"}, "framing": "eventstream"},
}
TOOLS = {
    "web_search": provider_tools.web_search,
    "code_execution": provider_tools.code_execution,
    "url_context": provider_tools.url_context,
    "file_search": lambda: provider_tools.file_search(["vs_1"]),
}


def load(name: str) -> dict[str, Any]:
    return dict(json.loads((CASES / f"{name}.json").read_text("utf-8")))


def stream_body(case: dict[str, Any]) -> tuple[bytes, str]:
    """The case's stream as the provider frames it, and its content type."""
    framing = WIRES[case["wire"]]["framing"]
    items = case["stream"]
    if framing == "eventstream":
        frames = [bedrock_event(*next(iter(item.items()))) for item in items]
        return b"".join(frames), "application/vnd.amazon.eventstream"
    if framing == "typed":  # Responses and Anthropic name each event
        text = "".join(f"event: {item['type']}\ndata: {json.dumps(item)}\n\n" for item in items)
    elif framing == "gemini":
        text = "".join(f"data: {json.dumps(item)}\r\n\r\n" for item in items)
    else:
        text = "".join(f"data: {json.dumps(item)}\n\n" for item in items) + "data: [DONE]\n\n"
    return text.encode("utf-8"), SSE


def engine(case: dict[str, Any], chunks: list[bytes] | None = None) -> allm.Engine:
    """An engine whose clients serve the whole body, or the stream cut into ``chunks``."""
    wire = WIRES[case["wire"]]
    content_type = "application/json"
    if chunks is None:
        pieces = [json.dumps(case["whole"]).encode("utf-8")]
    else:
        pieces, content_type = chunks, stream_body(case)[1]

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-type": content_type}, content=iter(pieces))

    async def aanswer(request: httpx.Request) -> httpx.Response:
        async def body() -> Any:
            for piece in pieces:
                yield piece

        return httpx.Response(200, headers={"content-type": content_type}, content=body())

    opts: dict[str, Any] = {
        **wire.get("opts", {}),
        "http_client": httpx.Client(transport=httpx.MockTransport(answer)),
        "async_http_client": httpx.AsyncClient(transport=httpx.MockTransport(aanswer)),
    }
    adapter: Any = wire["adapter"]
    if adapter == "vertex":
        adapter = Vertex()
        opts.update(credentials=credentials(), project=PROJECT, location="us-east5")
    return allm.Engine(
        adapter=adapter, model=case.get("model", wire.get("model")), adapter_opts=opts, retry=False
    )


def call_options(case: dict[str, Any]) -> dict[str, Any]:
    options: dict[str, Any] = {"tools": [TOOLS[kind]() for kind in case["request"]["tools"]]}
    if case["wire"] not in ("vertex-claude", "vertex-gemini"):
        options["api_key"] = "k"
    return options


def messages(case: dict[str, Any]) -> list[allm.Message]:
    document = case["request"].get("document")
    if document is None:
        return [allm.user("q")]
    part = allm.DocumentPart.from_text(document, name="My Document")
    cited = allm.DocumentPart(part.source, part.mime_type, part.name, {"citations": True})
    return [allm.user([cited, allm.TextPart("q")])]


def subset_problems(expected: dict[str, Any], value: Any) -> list[str]:
    actual = dataclasses.asdict(value)
    return [
        f"{key}: expected {wanted!r}, got {actual.get(key)!r}"
        for key, wanted in expected.items()
        if actual.get(key) != wanted
    ]


def check(response: allm.Response, expect: dict[str, Any]) -> None:
    assert response.error is None, response.error
    assert response.text == expect["text"]
    assert response.finish_reason == expect["finish_reason"]
    assert response.tool_calls == ()  # a provider's tool is never a call for the loop
    calls, cites = expect["server_tool_calls"], expect["citations"]
    assert len(response.server_tool_calls) == len(calls), response.server_tool_calls
    for wanted, call in zip(calls, response.server_tool_calls, strict=True):
        assert subset_problems(wanted, call) == []
    assert len(response.citations) == len(cites), response.citations
    for wanted, found in zip(cites, response.citations, strict=True):
        assert subset_problems(wanted, found) == []
    images = expect.get("images", [])
    assert len(response.images) == len(images)
    for wanted, image in zip(images, response.images, strict=True):
        assert image.mime_type == wanted["mime_type"]
        assert image.image.to_bytes().startswith(b"\x89PNG")
        if "revised_prompt" in wanted:
            assert image.metadata["revised_prompt"] == wanted["revised_prompt"]
    assert response.message is not None
    assert response.message.metadata.get("server_tool_calls", ()) == response.server_tool_calls


def folded_fields(response: allm.Response) -> tuple[Any, ...]:
    return (
        response.text,
        response.finish_reason,
        response.citations,
        response.server_tool_calls,
        tuple(image.image.to_bytes() for image in response.images),
    )


@pytest.mark.parametrize("name", NAMES)
def test_each_case_names_the_documentation_it_follows(name: str) -> None:
    case = load(name)
    assert case["wire"] in WIRES
    assert case["docs"] and all(link.startswith("https://") for link in case["docs"])


@pytest.mark.parametrize("name", NAMES)
def test_the_whole_answer_and_the_stream_fold_to_the_same_w1_fields(name: str, driver) -> None:
    case = load(name)
    whole = driver.generate(engine(case), messages(case), streaming=False, **call_options(case))
    check(whole, case["expect"])
    body, _ = stream_body(case)
    streamed = driver.generate(engine(case, [body]), messages(case), **call_options(case))
    check(streamed, case["expect"])
    assert folded_fields(streamed) == folded_fields(whole)
    events = driver.events(engine(case, [body]), messages(case), **call_options(case))
    assert sum(isinstance(e, ServerToolCallCompleted) for e in events) == len(
        case["expect"]["server_tool_calls"]
    )
    assert sum(isinstance(e, CitationAdded) for e in events) == len(case["expect"]["citations"])
    folded = allm.StreamCollector().apply_all(events).to_response()
    assert folded_fields(folded) == folded_fields(streamed)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    name=st.sampled_from(NAMES),
    cuts=st.lists(st.floats(min_value=0, max_value=1, exclude_max=True), max_size=12),
)
def test_the_stream_folds_the_same_however_its_bytes_are_cut(name: str, cuts: list[float]) -> None:
    case = load(name)
    body, _ = stream_body(case)
    offsets = sorted({int(cut * len(body)) for cut in cuts} - {0})
    chunks = [body[a:b] for a, b in zip([0, *offsets], [*offsets, len(body)], strict=True)]
    options = call_options(case)
    whole = allm.generate(engine(case, [body]), messages(case), **options)
    cut = allm.generate(engine(case, chunks), messages(case), **options)
    assert folded_fields(cut) == folded_fields(whole)
