"""Recorded answers served per host through httpx.MockTransport, remembering which host got which
key; engines for OpenAI and Anthropic pointed at those hosts."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import httpx

import allm
from allm.providers import Anthropic, OpenAI

WIRE = Path(__file__).resolve().parent.parent / "fixtures" / "wire"
HERE = Path(__file__).resolve().parent / "fixtures"

SSE = {"content-type": "text/event-stream"}
JSON = {"content-type": "application/json"}


def wire(provider: str, name: str) -> bytes:
    return (WIRE / provider / f"{name}.response").read_bytes()


Answer = tuple[int, dict[str, str], bytes] | Callable[[httpx.Request], httpx.Response]


@dataclass
class Hosts:
    """Answers per host, in order (the last repeats); every request seen, with its key."""

    answers: dict[str, list[Answer]] = field(default_factory=dict)
    seen: list[tuple[str, str | None]] = field(default_factory=list)

    def add(self, host: str, *answers: Answer) -> Hosts:
        self.answers.setdefault(host, []).extend(answers)
        return self

    def __call__(self, request: httpx.Request) -> httpx.Response:
        host = request.url.host
        key = request.headers.get("x-api-key") or request.headers.get("authorization")
        self.seen.append((host, key))
        queue = self.answers[host]
        answer = queue.pop(0) if len(queue) > 1 else queue[0]
        if callable(answer):
            return answer(request)
        status, headers, body = answer
        return httpx.Response(status, headers=headers, content=body)

    def opts(self) -> dict[str, Any]:
        return {
            "http_client": httpx.Client(transport=httpx.MockTransport(self)),
            "async_http_client": httpx.AsyncClient(transport=httpx.MockTransport(self)),
        }

    def hosts(self) -> list[str]:
        return [host for host, _ in self.seen]


def raising(exc: type[Exception]) -> Callable[[httpx.Request], httpx.Response]:
    def answer(request: httpx.Request) -> httpx.Response:
        raise exc("scripted transport failure", request=request)

    return answer


def openai_engine(hosts: Hosts, host: str = "primary.test", **fields: Any) -> allm.Engine:
    fields.setdefault("retry", False)
    return allm.Engine(
        adapter=OpenAI(base_url=f"http://{host}/v1"),
        model=fields.pop("model", "gpt-4o-mini"),
        adapter_opts=hosts.opts(),
        **fields,
    )


def anthropic_engine(hosts: Hosts, host: str = "fallback.test", **fields: Any) -> allm.Engine:
    fields.setdefault("retry", False)
    return allm.Engine(
        adapter=Anthropic(base_url=f"http://{host}"),
        model=fields.pop("model", "claude-sonnet-4-5"),
        adapter_opts=hosts.opts(),
        **fields,
    )


def run_chat(api: str, engine: allm.Engine, thread: Any, **opts: Any) -> allm.ChatResult:
    """``chat`` through the sync API, or ``achat`` through the async one."""
    if api == "sync":
        return allm.chat(engine, thread, **opts)

    async def run() -> allm.ChatResult:
        return await allm.achat(engine, thread, **opts)

    return anyio.run(run)


def run_step(api: str, engine: allm.Engine, thread: Any, **opts: Any) -> allm.StepResult:
    """``step`` through the sync API, or ``astep`` through the async one."""
    if api == "sync":
        return allm.step(engine, thread, **opts)

    async def run() -> allm.StepResult:
        return await allm.astep(engine, thread, **opts)

    return anyio.run(run)
