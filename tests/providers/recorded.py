"""Composed transcripts of the Azure OpenAI, Mistral and Ollama wires: how each provider's
compose script writes them (tests/fixtures/wire/<provider>/), and how the tests replay them.

A transcript's ``request.json`` holds the URL and body the adapter must send, plus ``allm``: the
adapter options and call keywords that make it send them. Its ``expect.json`` is the normalized
answer (checked by ``tests.providers.wire.check_response``) and, in ``notes``, the documentation
page that shows the format.
"""

from __future__ import annotations

import json
from typing import Any

import allm
from allm.registry import resolve_adapter

from .wire import FIXTURES, Case, call_keywords, case_names, check_response, is_subset, load

WEATHER = {
    "type": "object",
    "properties": {"city": {"type": "string"}},
    "required": ["city"],
}
TOOL = allm.Tool("weather", "Weather in a city.", WEATHER)
KEY = "sk-recorded-key-0001"


def chat_body(model: str, *, tools: bool) -> dict[str, Any]:
    """A request body's model, one user message, and the weather tool when ``tools``."""
    body: dict[str, Any] = {
        "model": model,
        "messages": [{"role": "user", "content": "Weather in Oslo?" if tools else "Say hello"}],
    }
    if tools:
        body["tools"] = [
            {
                "type": "function",
                "function": {
                    "name": "weather",
                    "description": "Weather in a city.",
                    "parameters": WEATHER,
                },
            }
        ]
    return body


def expect(
    provider: str,
    case: str,
    doc: str,
    *,
    stream: bool,
    status: int = 200,
    content_type: str = "application/json",
    headers: dict[str, str] | None = None,
    **fields: Any,
) -> dict[str, Any]:
    """An ``expect.json``: nothing produced unless ``fields`` say so."""
    out: dict[str, Any] = {
        "case": case,
        "provider": provider,
        "stream": stream,
        "http": {"status": status, "headers": {"content-type": content_type, **(headers or {})}},
        "response_id": None,
        "model": None,
        "output_text": "",
        "reasoning_text": None,
        "tool_calls": [],
        "finish_reason": None,
        "raw_finish_reason": None,
        "usage": None,
        "error": None,
        "notes": [f"Composed from {doc}; not recorded from a live service."],
    }
    out.update(fields)
    return out


def write(
    provider: str, cases: dict[str, tuple[dict[str, Any], str | bytes, dict[str, Any]]]
) -> None:
    """Write each case's three files under tests/fixtures/wire/<provider>/."""
    folder = FIXTURES / provider
    folder.mkdir(parents=True, exist_ok=True)
    for name, (request, body, expected) in cases.items():
        (folder / f"{name}.request.json").write_text(json.dumps(request, indent=2) + "\n")
        raw = body if isinstance(body, bytes) else body.encode("utf-8")
        (folder / f"{name}.response").write_bytes(raw)
        (folder / f"{name}.expect.json").write_text(json.dumps(expected, indent=2) + "\n")


def cases_of(provider: str) -> list[str]:
    return case_names(provider)


def engine(case: Case, how: Any = "whole", **opts: Any) -> allm.Engine:
    """An engine of the transcript's provider serving its body, configured as it says."""
    extra = case.request.get("allm") or {}
    adapter = type(resolve_adapter(case.expect["provider"]))()
    adapter_opts = {
        **(extra.get("adapter_opts") or {}),
        "http_client": case.client(how),
        "async_http_client": case.async_client(how),
        **opts,
    }
    return allm.Engine(
        adapter=adapter, model=case.request["body"]["model"], adapter_opts=adapter_opts, retry=False
    )


def ask(case: Case) -> tuple[list[allm.Message], dict[str, Any]]:
    """The messages and call keywords that make the adapter send the transcript's request."""
    body = case.request["body"]
    extra = case.request.get("allm") or {}
    first = body.get("messages", body.get("input"))
    text = first if isinstance(first, str) else first[0]["content"]
    if isinstance(text, list):
        text = text[0]["text"]
    params = call_keywords(extra.get("params") or {}, case.expect["provider"])
    keywords: dict[str, Any] = {"api_key": KEY, **params}
    if body.get("tools"):
        keywords["tools"] = [TOOL]
    return [allm.user(text)], keywords


def sent_url_and_body(case: Case) -> tuple[str, Any]:
    seen = case.seen[-1]
    return str(seen.url), json.loads(seen.content)


def load_case(provider: str, name: str) -> Case:
    return load(provider, name)


def replay_streamed(case: Case, how: Any) -> allm.Response:
    """The transcript streamed (cut as ``how``) and folded; the request checked against it."""
    messages, keywords = ask(case)
    events = list(allm.stream_generate(engine(case, how), messages, **keywords))
    response = allm.StreamCollector().apply_all(events).to_response()
    check_sent(case)
    return response


def replay_whole(case: Case) -> allm.Response:
    """The transcript as a non-streaming answer."""
    messages, keywords = ask(case)
    response = allm.generate(engine(case), messages, streaming=False, **keywords)
    check_sent(case)
    return response


def check_sent(case: Case) -> None:
    url, body = sent_url_and_body(case)
    assert url == case.request["url"]
    assert is_subset(case.request["body"], body) == []


def assert_matches(case: Case, response: allm.Response) -> None:
    problems = check_response(response, case.expect)
    assert problems == [], (case.name, problems)


def fold_matches_generate(case: Case) -> None:
    """``generate`` equals the fold of ``stream_generate`` on the same bytes."""
    messages, keywords = ask(case)
    folded = allm.stream_generate(engine(case), messages, **keywords).collect()
    whole = allm.generate(engine(case), messages, **keywords)
    fields = ("text", "finish_reason", "usage", "tool_calls", "reasoning", "id", "model")
    assert [getattr(whole, f) for f in fields] == [getattr(folded, f) for f in fields]
    assert_matches(case, whole)
