"""Replay of recorded wire transcripts (tests/fixtures/wire) through httpx.MockTransport, and the
comparison of a folded Response with a transcript's expect.json. Shared by every provider's tests.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

import allm

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "wire"

# expect.json error.kind -> the AdapterError reasons that satisfy it
ERROR_KINDS = {
    "invalid_request": {"invalid_request", "context_length_exceeded"},
    "authentication": {"authentication_failed"},
    "rate_limit": {"rate_limited"},
    "quota_exhausted": {"quota_exhausted"},
    "overloaded": {"provider_unavailable"},
    "server_error": {"provider_unavailable"},
    "stream_interrupted": {"network_error"},
    "content_filter": {"content_filter"},
    "malformed_response": {"malformed_response"},
}


@dataclass
class Case:
    """One recorded exchange: the request to send, the raw body to serve, the expectation."""

    directory: str
    name: str
    request: dict[str, Any]
    body: bytes
    expect: dict[str, Any]
    seen: list[httpx.Request] = field(default_factory=list)

    @property
    def status(self) -> int:
        return int(self.expect["http"]["status"])

    @property
    def headers(self) -> dict[str, str]:
        return dict(self.expect["http"]["headers"])

    @property
    def boundaries(self) -> list[int]:
        return list((self.expect.get("transport") or {}).get("chunk_boundaries") or [])

    def chunks(self, how: str | Sequence[int]) -> list[bytes]:
        """The body cut as ``"whole"``, ``"bytewise"``, ``"boundaries"`` or at given offsets."""
        if how == "whole":
            return [self.body]
        if how == "bytewise":
            return [self.body[i : i + 1] for i in range(len(self.body))]
        offsets = self.boundaries if how == "boundaries" else list(how)
        pieces, start = [], 0
        for offset in sorted(set(offsets)):
            if 0 < offset < len(self.body):
                pieces.append(self.body[start:offset])
                start = offset
        pieces.append(self.body[start:])
        return pieces

    def _response(
        self, request: httpx.Request, chunks: list[bytes], is_async: bool
    ) -> httpx.Response:
        self.seen.append(request)
        if is_async:

            async def agen() -> AsyncIterator[bytes]:
                for chunk in chunks:
                    yield chunk

            return httpx.Response(self.status, headers=self.headers, content=agen())

        def gen() -> Iterator[bytes]:
            yield from chunks

        return httpx.Response(self.status, headers=self.headers, content=gen())

    def client(self, how: str | Sequence[int] = "whole") -> httpx.Client:
        """A sync client whose transport serves this case's body, recording each request."""
        chunks = self.chunks(how)
        return httpx.Client(
            transport=httpx.MockTransport(lambda r: self._response(r, chunks, False))
        )

    def async_client(self, how: str | Sequence[int] = "whole") -> httpx.AsyncClient:
        """The async twin of ``client``."""
        chunks = self.chunks(how)

        async def handler(request: httpx.Request) -> httpx.Response:
            return self._response(request, chunks, True)

        return httpx.AsyncClient(transport=httpx.MockTransport(handler))

    def sent_body(self) -> Any:
        """The JSON body of the last request the adapter sent."""
        return json.loads(self.seen[-1].content)


def call_keywords(params: dict[str, Any], provider: str) -> dict[str, Any]:
    """A transcript's ``allm.params`` as call keywords: the call options as they are, the
    provider's own body fields in ``provider_options``."""
    keywords = {k: v for k, v in params.items() if k in allm.CallOptions.__annotations__}
    body = {k: v for k, v in params.items() if k not in keywords}
    if body:
        keywords["provider_options"] = {provider: body}
    return keywords


def case_names(directory: str) -> list[str]:
    """Every case in a provider directory."""
    return sorted(
        p.name[: -len(".expect.json")] for p in (FIXTURES / directory).glob("*.expect.json")
    )


def load(directory: str, name: str, root: Path = FIXTURES) -> Case:
    """A case by directory and name (under ``root``, the recorded wire fixtures by default)."""
    base = root / directory / name
    request = json.loads(base.with_name(f"{name}.request.json").read_text())
    body = base.with_name(f"{name}.response").read_bytes()
    expect = json.loads(base.with_name(f"{name}.expect.json").read_text())
    return Case(directory, name, request, body, expect)


def is_subset(expected: Any, actual: Any, path: str = "body") -> list[str]:
    """Where ``actual`` lacks something of ``expected`` (dicts compared as subsets, lists
    element-wise; abbreviated prompts like "[... ~N tokens ...]" match any string)."""
    problems: list[str] = []
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return [f"{path}: expected an object, got {actual!r}"]
        for key, value in expected.items():
            if key not in actual:
                problems.append(f"{path}.{key}: missing")
            else:
                problems.extend(is_subset(value, actual[key], f"{path}.{key}"))
    elif isinstance(expected, list):
        if not isinstance(actual, list) or len(actual) != len(expected):
            return [f"{path}: expected {len(expected)} items, got {actual!r}"]
        for index, (item, other) in enumerate(zip(expected, actual, strict=True)):
            problems.extend(is_subset(item, other, f"{path}[{index}]"))
    elif isinstance(expected, str) and expected.startswith("[...") and isinstance(actual, str):
        return []
    elif expected != actual:
        problems.append(f"{path}: expected {expected!r}, got {actual!r}")
    return problems


def check_response(response: allm.Response, expect: dict[str, Any]) -> list[str]:
    """Differences between a folded Response and a transcript's normalized expectation."""
    problems: list[str] = []

    def same(label: str, actual: Any, expected: Any) -> None:
        if actual != expected:
            problems.append(f"{label}: expected {expected!r}, got {actual!r}")

    same("output_text", response.output_text or "", expect["output_text"] or "")
    same("reasoning", response.reasoning or None, expect.get("reasoning_text") or None)
    same("finish_reason", response.finish_reason, expect["finish_reason"])
    error = response.metadata.get("error")
    if expect.get("error"):
        wanted = expect["error"]
        if not isinstance(error, allm.AdapterError):
            problems.append(f"error: expected an AdapterError, got {error!r}")
        else:
            kinds = ERROR_KINDS.get(wanted["kind"], {wanted["kind"]})
            if error.reason not in kinds:
                problems.append(f"error.reason: {error.reason!r} is not a {wanted['kind']!r}")
            if wanted.get("http_status") and wanted["http_status"] != 200:
                same("error.status", error.status, wanted["http_status"])
            if wanted.get("retry_after_seconds") is not None:
                same(
                    "error.retry_after_ms",
                    error.retry_after_ms,
                    round(wanted["retry_after_seconds"] * 1000),
                )
            if wanted.get("request_id"):
                same("error.request_id", error.request_id, wanted["request_id"])
    else:
        same("error", error, None)
        same("raw_finish_reason", response.raw_finish_reason, expect.get("raw_finish_reason"))
        if expect.get("response_id") is not None:
            same("id", response.id, expect["response_id"])
        if expect.get("model") is not None:
            same("model", response.model, expect["model"])
        if expect.get("request_id") is not None:
            same(
                "provider_request_id",
                response.metadata.get("provider_request_id"),
                expect["request_id"],
            )
    calls = [
        {"name": c.name, "arguments": c.arguments, "raw": c.raw_arguments, "id": c.id}
        for c in response.tool_calls
    ]
    wanted_calls = [
        {
            "name": c["name"],
            "arguments": c["arguments"],
            "raw": c["arguments_json"]
            if c.get("arguments_json") is not None
            else calls[i]["raw"]
            if i < len(calls)
            else None,
            "id": c["id"]
            if c.get("id") is not None
            else calls[i]["id"]
            if i < len(calls)
            else None,
        }
        for i, c in enumerate(expect.get("tool_calls") or [])
    ]
    same("tool_calls", calls, wanted_calls)
    usage = expect.get("usage")
    if usage is not None:
        got = response.usage
        same("usage.input_tokens", got.input_tokens, usage.get("input_tokens"))
        same("usage.output_tokens", got.output_tokens, usage.get("output_tokens"))
        same("usage.total_tokens", got.total_tokens, usage.get("total_tokens"))
        same("usage.cached_input_tokens", got.cached_input_tokens, usage.get("cached_tokens"))
        same(
            "usage.cache_write_input_tokens",
            got.cache_write_input_tokens,
            usage.get("cache_write_tokens"),
        )
        same("usage.reasoning_tokens", got.reasoning_tokens, usage.get("reasoning_tokens"))
    if expect.get("refusal"):
        same("metadata.refusal", response.metadata.get("refusal"), expect["refusal"])
    if "logprobs" in expect:
        same("logprobs", logprobs_of(response), expect["logprobs"])
    return problems


def logprobs_of(response: allm.Response) -> list[dict[str, Any]] | None:
    """``response.logprobs`` in the expect.json spelling (bytes as a list of ints)."""
    if response.logprobs is None:
        return None

    def item(token: allm.TokenLogprob, nested: bool) -> dict[str, Any]:
        out: dict[str, Any] = {
            "token": token.token,
            "logprob": token.logprob,
            "bytes": None if token.bytes is None else list(token.bytes),
        }
        if nested:
            out["top"] = [item(alternative, False) for alternative in token.top]
        return out

    return [item(token, True) for token in response.logprobs]
