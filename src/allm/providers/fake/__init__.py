"""The Fake provider: a deterministic, scripted adapter for testing code that uses allm.

What it is: a real adapter (streaming and non-streaming) that ignores the request and replays a
script from the engine's ``adapter_opts``, so every path of the runner, the chat loop and sessions
can be driven without a network. What it is not: a model of any provider's wire format; the HTTP
adapters are tested on recorded bytes instead.

Scripts, in ``adapter_opts``: ``script=[...]`` (one call), ``scripts=[[...], [...]]`` (one list per
call), ``stream_script`` (streaming calls only; flat or a list of lists). Entries are builders from
this module or tuples::

    text("hi")                 ("text", "hi")
    tool_call(id=, name=, arguments=)  ("tool_call", {"id": ..., "name": ..., "arguments": {...}})
    tool_call_delta(id=, arguments_delta=)  ("tool_call_delta", {"id": ..., "arguments_delta": ...})
    usage(input_tokens=3)      ("usage", {"input_tokens": 3})
    raw_chunk(x)               ("raw_chunk", x)
    reasoning("...")           ("reasoning", "...")
    logprobs(("Hi", -0.1))     ("logprobs", [("Hi", -0.1)])   TokenLogprob values or pairs
    finish("stop")             ("finish", "stop")
    error("rate_limited")      ("error", "rate_limited")
    delay(50)                  ("delay", 50)        milliseconds
    server_tool_call(id, name, arguments, result)    a ServerToolCallCompleted
    citation("url", url=...)   a CitationAdded

and the conformance harness's entries: ``("text_delta", s)``, ``("ok", {...})``,
``("error", reason, {...})``, ``("preflight_error", reason, {...})``, ``("error_event", reason,
{...})``, ``("stream_error", reason, {...})``.

Other options: ``retry_until_call=n`` (the first n-1 calls fail with a retryable timeout),
``usage`` (applied to every call, winning over script entries), ``record`` (a callable or list that
receives ``(request, call)`` when a call opens), ``cleanup_observer`` (called once when a stream
ends or is abandoned), ``script_cursor`` (a ``ScriptCursor`` shared between engines). Each engine
has its own cursor otherwise. A call with ``reasoning=`` gets ``metadata["reasoning_sent"] ==
{"reasoning": {...}}``: the ``Reasoning`` fields it set, as a wire would record its own.
"""

from __future__ import annotations

from .adapter import Fake
from .entries import (
    Delay,
    Entry,
    Error,
    Finish,
    HarnessOk,
    LogprobsEntry,
    PreflightError,
    RawChunkEntry,
    Reasoning,
    Text,
    ToolCallDeltaEntry,
    ToolCallEntry,
    UsageEntry,
    citation,
    delay,
    error,
    error_event,
    finish,
    logprobs,
    ok,
    preflight_error,
    raw_chunk,
    reasoning,
    server_tool_call,
    stream_error,
    text,
    tool_call,
    tool_call_delta,
    usage,
)
from .script import CursorBook, ScriptCursor, parse_script, record

__all__ = [
    "citation",
    "record",
    "Delay",
    "Entry",
    "Error",
    "Fake",
    "Finish",
    "HarnessOk",
    "LogprobsEntry",
    "PreflightError",
    "RawChunkEntry",
    "Reasoning",
    "ScriptCursor",
    "Text",
    "ToolCallDeltaEntry",
    "ToolCallEntry",
    "UsageEntry",
    "delay",
    "error",
    "error_event",
    "finish",
    "logprobs",
    "ok",
    "preflight_error",
    "raw_chunk",
    "reasoning",
    "server_tool_call",
    "stream_error",
    "text",
    "tool_call",
    "tool_call_delta",
    "usage",
    "parse_script",
    "CursorBook",
]
