"""Pre-flight of a batch: every request planned by the same ``plan_call`` as ``generate``, its
body built by the adapter's own ``build_request(stream=False)``; every problem listed before
anything is sent."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..adapters import TRANSPORT_KEYS, Call, resolve_adapter
from ..adapters.http import HttpRequest
from ..data.embeddings import EmbeddingRequest
from ..data.request import Request
from ..engine import Engine, new_id
from ..errors import AllmError, ConfigurationError, FieldError, ValidationError
from ..execution.options import CALL_OPTION_KEYS, CallOptions, option_keys
from ..execution.runner import engine_opts_for, plan_call, settings_for

__all__ = [
    "BATCH_OPTION_KEYS",
    "BatchOptions",
    "Line",
    "Prepared",
    "control_call",
    "joined",
    "jsonl_parts",
    "pairs",
    "prepare",
]


class BatchOptions(CallOptions, total=False):
    """The keywords of ``submit``: the job's own, then every call option, applied to each
    request as ``generate`` applies it."""

    metadata: Mapping[str, Any]
    completion_window: str
    display_name: str
    input_file: bool | None
    max_requests: int


# What the batch call itself reads; everything else goes to each request's plan.
BATCH_KEYS = option_keys(BatchOptions) - CALL_OPTION_KEYS
BATCH_OPTION_KEYS = option_keys(BatchOptions)


@dataclass(frozen=True, slots=True)
class Line:
    """One request after pre-flight: its id, its model and its encoded batch line. Only the
    first line (and every line on the Fake, which replays rather than sends) keeps the final
    request, its call and the HTTP request the non-streaming path would send: a batch of
    100,000 requests holds their bytes, not their objects."""

    custom_id: str
    model: str | None
    encoded: bytes = b""
    request: Request | EmbeddingRequest | None = None
    call: Call | None = None
    http: HttpRequest | None = None


@dataclass
class Prepared:
    """A whole batch after pre-flight, in the caller's order."""

    adapter: Any
    lines: list[Line] = field(default_factory=list)


def pairs(requests: Any) -> list[tuple[str | None, Any]]:
    """``(custom_id or None, request)`` for each entry: a ``Request`` or ``(custom_id, Request)``."""
    if isinstance(requests, str | bytes | Request) or not isinstance(requests, Iterable):
        raise ConfigurationError(
            "invalid_option",
            problems=["requests must be a sequence of Request or (custom_id, Request)"],
        )
    found: list[tuple[str | None, Any]] = []
    for entry in requests:
        if isinstance(entry, tuple) and len(entry) == 2 and not isinstance(entry[0], Request):
            found.append((entry[0], entry[1]))
        else:
            found.append((None, entry))
    return found


def _problems(error: AllmError, index: int) -> list[FieldError]:
    errors = getattr(error, "errors", None) or ()
    problems = getattr(error, "problems", None) or ()
    found: list[FieldError] = [((index, *path), reason) for path, reason in errors]
    found.extend(((index,), str(problem)) for problem in problems)
    if not found:
        found.append(((index,), f"{error.reason}: {error.message}"))
    return found


def prepare(
    engine: Any,
    requests: Any,
    opts: Mapping[str, Any],
    build: Callable[[Any, Request, Call, str, bool], Line],
) -> Prepared:
    """Plan every request (``build`` makes its ``Line``; told whether it is the first); raise one ``ValidationError`` with
    every problem (paths start with the request's index) when any request fails."""
    entries = pairs(requests)
    problems: list[FieldError] = []
    if not entries:
        problems.append(((), "empty_batch"))
    seen: set[str] = set()
    prepared: Prepared | None = None
    call_opts = {key: value for key, value in opts.items() if key not in BATCH_KEYS}
    for index, (custom_id, request) in enumerate(entries):
        if custom_id is None:
            custom_id = f"request-{index}"
        if not isinstance(custom_id, str) or not custom_id:
            problems.append(((index, "custom_id"), "not_a_non_empty_str"))
            continue
        if custom_id in seen:
            problems.append(((index, "custom_id"), f"duplicate:{custom_id}"))
            continue
        seen.add(custom_id)
        try:
            planned = plan_call(engine, request, call_opts, custom_id, "generate")
            if prepared is None:
                prepared = Prepared(planned.adapter)
            elif getattr(planned.adapter, "name", None) != getattr(prepared.adapter, "name", None):
                problems.append(((index, "model"), "another_provider_than_the_first_request"))
                continue
            line = build(
                planned.adapter, planned.request, planned.call, custom_id, not prepared.lines
            )
        except AllmError as exc:
            if isinstance(exc, ConfigurationError) and not isinstance(engine, Engine):
                raise
            problems.extend(_problems(exc, index))
            continue
        prepared.lines.append(line)
    if problems or prepared is None:
        raise ValidationError("invalid_request", errors=problems or [((), "empty_batch")])
    return prepared


def control_call(engine: Any, provider: str, opts: Mapping[str, Any]) -> tuple[Any, Call]:
    """The adapter named ``provider`` and the ``Call`` a control request (status, results,
    cancel) of an existing job runs with: the engine's options for it, the caller's over them."""
    if not isinstance(engine, Engine):
        raise ConfigurationError(
            "invalid_option", problems=[f"engine must be an Engine, got {engine!r}"]
        )
    adapter = engine.adapter if _named(engine.adapter, provider) else resolve_adapter(provider)
    adapter = resolve_adapter(adapter)
    adapter_opts = dict(engine_opts_for(engine, adapter))
    adapter_opts.update(opts.get("adapter_opts") or {})
    for key in TRANSPORT_KEYS:
        if key in opts:
            adapter_opts[key] = opts[key]
    adapter_opts.setdefault("cursor_key", engine.id)
    call = Call(
        request_id=str(opts.get("request_id") or new_id()),
        engine=engine,
        adapter_opts=adapter_opts,
        api_key=opts.get("api_key") or None,
        retry=engine.retry_policy(),
        provider_settings=settings_for(adapter),
    )
    return adapter, call


def _named(adapter: Any, provider: str) -> bool:
    if adapter is None:
        return False
    if isinstance(adapter, str):
        return adapter == provider
    return getattr(adapter, "name", None) == provider


def split(
    lines: Sequence[Any], sizes: Sequence[int], max_count: int, max_bytes: int
) -> list[tuple[int, int]]:
    """``(start, stop)`` ranges of ``lines`` holding at most ``max_count`` lines and
    ``max_bytes`` bytes each (``sizes[i]`` the encoded size of line ``i``)."""
    ranges: list[tuple[int, int]] = []
    start, total = 0, 0
    for index, size in enumerate(sizes):
        if index > start and (index - start >= max_count or total + size > max_bytes):
            ranges.append((start, index))
            start, total = index, 0
        total += size
    if lines:
        ranges.append((start, len(lines)))
    return ranges


def joined(pieces: Iterable[bytes], separator: bytes) -> list[bytes]:
    """``pieces`` with ``separator`` between them: the parts of a body sent without joining
    them (a list of references, not a copy of the bytes)."""
    parts: list[bytes] = []
    for piece in pieces:
        if parts:
            parts.append(separator)
        parts.append(piece)
    return parts


def jsonl_parts(lines: Sequence[Line]) -> list[bytes]:
    """The lines as the parts of a JSONL file (each line and its newline)."""
    parts: list[bytes] = []
    for line in lines:
        parts.append(line.encoded)
        parts.append(b"\n")
    return parts
