"""Hypothesis strategies for every Layer A value: data types, events, errors, engines.

Every strategy here draws values that survive ``allm.to_json`` / ``allm.from_json`` and pickle
unchanged, so a property test can assert plain equality after a round trip. That rules out a few
things on purpose: ``NaN`` and infinities (not JSON), non-string mapping keys (JSON keys are
strings), exception causes other than allm errors (they are stored as their ``repr``), and tool
handlers that are not importable module-level functions.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st

from allm import errors as allm_errors
from allm import events
from allm.data import (
    ChatResult,
    FinishReason,
    HaltReason,
    Image,
    ImagePart,
    ImageRequest,
    ImageResponse,
    ImageSource,
    ImageUsage,
    Message,
    ModelRef,
    Request,
    Response,
    Role,
    Session,
    SessionStatus,
    StepResult,
    TextPart,
    Thread,
    TokenLogprob,
    Tool,
    ToolCall,
    Usage,
    json_schema,
)
from allm.data.messages import AudioPart, DocumentPart
from allm.data.reasoning import CachePoint, PromptCache, Reasoning
from allm.data.server_tools import PROVIDER_TOOL_KINDS, Citation, ProviderTool, ServerToolCall
from allm.data.tools import RESERVED_TOOL_NAMES
from allm.engine import Engine
from allm.retry import RetryPolicy

__all__ = [
    "DATA_STRATEGIES",
    "audio_parts",
    "citations",
    "document_parts",
    "provider_tools",
    "server_tool_calls",
    "ERROR_KINDS",
    "EVENT_STRATEGIES",
    "REASON_SUBCLASSES",
    "chat_results",
    "engines",
    "error_values",
    "event_values",
    "image_parts",
    "image_requests",
    "image_responses",
    "image_sources",
    "image_usages",
    "images",
    "json_values",
    "layer_a_values",
    "messages",
    "metadata",
    "model_refs",
    "requests",
    "responses",
    "retry_policies",
    "sessions",
    "step_results",
    "text_parts",
    "threads",
    "token_logprobs",
    "tool_calls",
    "tool_names",
    "tools",
    "usages",
]

# ------------------------------------------------------------------------------------ scalars

texts = st.text(max_size=12)
optional_texts = st.none() | texts
ids = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_-", min_size=1, max_size=10)
finite_floats = st.floats(allow_nan=False, allow_infinity=False)
optional_costs = st.none() | st.floats(min_value=0, max_value=1e6, allow_nan=False)
optional_counts = st.none() | st.integers(min_value=0, max_value=2**40)
optional_sizes = st.none() | st.integers(min_value=1, max_value=4096)
keys = st.text(max_size=8)

json_scalars = st.none() | st.booleans() | st.integers() | finite_floats | texts

# Tags a free-form mapping may carry as its own "__type__" key: codec tags, registered type
# names, and names nobody knows. The codec must escape them all.
_TYPE_KEY_VALUES = st.sampled_from(
    ["tuple", "bytes", "dict", "exception", "Message", "AdapterError", "NoSuchType"]
) | st.one_of(st.none(), st.integers(), texts)


def _with_type_key(children: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    return st.builds(
        lambda tag, rest: {**rest, "__type__": tag},
        _TYPE_KEY_VALUES,
        st.dictionaries(keys, children, max_size=2),
    )


def _containers(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return (
        st.lists(children, max_size=3)
        | st.lists(children, max_size=3).map(tuple)
        | st.dictionaries(keys, children, max_size=3)
        | _with_type_key(children)
    )


# JSON-ish free-form values, plus the non-JSON types the codec tags: tuples, bytes and mappings
# that have a "__type__" key of their own.
json_values: st.SearchStrategy[Any] = st.recursive(
    json_scalars | st.binary(max_size=8), _containers, max_leaves=6
)

metadata: st.SearchStrategy[dict[str, Any]] = st.dictionaries(
    keys, json_values, max_size=2
) | _with_type_key(json_values)

arguments = st.dictionaries(keys, json_values, max_size=3)

# ----------------------------------------------------------------------------- messages, tools


def _valid_tool_name(name: str) -> bool:
    return name not in RESERVED_TOOL_NAMES


tool_names = st.from_regex(r"[A-Za-z0-9_-]{1,64}", fullmatch=True).filter(_valid_tool_name)

tool_calls = st.builds(
    ToolCall,
    id=ids,
    name=tool_names,
    arguments=arguments,
    raw_arguments=optional_texts,
    metadata=metadata,
)

text_parts = st.builds(TextPart, text=texts, metadata=metadata)

_MIME_TYPES = ["image/png", "image/jpeg", "image/webp", "image/gif"]

image_sources = st.one_of(
    st.builds(ImageSource, st.just("binary"), st.binary(max_size=16)),
    st.builds(ImageSource, st.just("base64"), st.binary(max_size=16).map(lambda b: b.hex())),
    st.builds(ImageSource, st.just("url"), texts.map(lambda t: "https://example.com/" + t)),
    st.builds(ImageSource, st.just("file"), texts.map(lambda t: "/images/" + t + ".png")),
)

images = st.builds(
    Image,
    source=image_sources,
    mime_type=st.none() | st.sampled_from(_MIME_TYPES),
    width=optional_sizes,
    height=optional_sizes,
    prompt=optional_texts,
    revised_prompt=optional_texts,
    metadata=metadata,
)

image_parts = st.builds(
    ImagePart, image=images, detail=st.sampled_from(["auto", "low", "high"]), metadata=metadata
)

cache_points = st.builds(CachePoint, retention=st.sampled_from(["short", "long"]))
reasonings = st.builds(
    Reasoning,
    effort=st.none() | st.sampled_from(["none", "minimal", "low", "medium", "high", "xhigh"]),
    budget_tokens=st.none() | st.integers(min_value=0, max_value=64_000),
    summary=st.none() | st.sampled_from(["auto", "concise", "detailed"]),
)
prompt_caches = st.builds(
    PromptCache, key=st.none() | ids, retention=st.sampled_from(["short", "long"])
)
_DOCUMENT_TYPES = ["application/pdf", "text/plain", "text/markdown", "text/csv"]
document_parts = st.builds(
    DocumentPart,
    source=image_sources | st.builds(ImageSource, st.just("text"), texts),
    mime_type=st.none() | st.sampled_from(_DOCUMENT_TYPES),
    name=optional_texts,
    metadata=metadata,
)
audio_parts = st.builds(
    AudioPart,
    source=image_sources,
    mime_type=st.none() | st.sampled_from(["audio/wav", "audio/mpeg", "audio/flac", "audio/ogg"]),
    metadata=metadata,
)
contents = texts | st.lists(
    text_parts | image_parts | cache_points | document_parts | audio_parts, max_size=3
).map(tuple)

messages = st.builds(
    Message,
    role=st.sampled_from(Role) | st.sampled_from([role.value for role in Role]),
    content=contents,
    name=optional_texts,
    tool_call_id=st.none() | ids,
    tool_calls=st.lists(tool_calls, max_size=2).map(tuple),
    metadata=metadata,
)

_schemas = st.fixed_dictionaries(
    {"type": st.just("object")},
    optional={"properties": st.dictionaries(keys, json_values, max_size=2)},
)

# Module-level functions: a tool handler is stored in JSON by its import path.
_HANDLERS = [json.dumps, json.loads]

tools = st.builds(
    Tool,
    name=tool_names,
    description=texts,
    schema=_schemas,
    handler=st.none() | st.sampled_from(_HANDLERS),
    manual=st.booleans(),
    metadata=metadata,
    cache=st.booleans(),
)

# Provider tools, what they did, and what an answer cites.
provider_tools = st.builds(ProviderTool, kind=st.sampled_from(PROVIDER_TOOL_KINDS), config=metadata)
server_tool_calls = st.builds(ServerToolCall, ids, tool_names, arguments, json_values, metadata)
citations = st.builds(
    Citation,
    st.sampled_from(["url", "document", "grounding"]),
    optional_texts,
    optional_texts,
    optional_texts,
    st.none() | st.integers(min_value=0, max_value=99),
    st.none() | st.integers(min_value=0, max_value=99),
    optional_texts,
    metadata,
)

# --------------------------------------------------------------------------- request, response

_response_formats = st.one_of(
    st.none(),
    st.just("text"),
    st.just({"type": "json_object"}),
    st.builds(json_schema, tool_names, _schemas, st.booleans()),
)

_tool_choices = st.one_of(
    st.none(),
    st.sampled_from(["auto", "none", "required"]),
    tool_names,
    st.tuples(st.just("tool"), tool_names),
    st.dictionaries(keys, json_values, max_size=2),
)

requests = st.builds(
    Request,
    model=optional_texts,
    messages=st.lists(messages, max_size=3).map(tuple),
    tools=st.lists(tools | provider_tools, max_size=2).map(tuple),
    tool_choice=_tool_choices,
    temperature=st.none() | st.floats(min_value=0, max_value=2),
    max_tokens=st.none() | st.integers(min_value=1, max_value=100_000),
    stream=st.booleans(),
    response_format=_response_formats,
    structured_finalize=st.booleans(),
    options=metadata,
    metadata=metadata,
    reasoning=st.none() | reasonings,
    prompt_cache=st.none() | st.just("auto") | prompt_caches,
    logprobs=st.none() | st.booleans() | st.integers(min_value=0, max_value=20),
)

usages = st.builds(
    Usage,
    input_tokens=optional_counts,
    output_tokens=optional_counts,
    cached_input_tokens=optional_counts,
    cache_write_input_tokens=optional_counts,
    reasoning_tokens=optional_counts,
    total_tokens=optional_counts,
    input_cost=optional_costs,
    output_cost=optional_costs,
    total_cost=optional_costs,
    tool_usage=metadata,
    extra=metadata,
)

finish_reasons = st.none() | st.sampled_from(FinishReason)

_logprob_values = st.floats(min_value=-100, max_value=0, allow_nan=False)
_alternatives = st.builds(TokenLogprob, texts, _logprob_values, st.none() | st.binary(max_size=4))
token_logprobs = st.builds(
    TokenLogprob,
    token=texts,
    logprob=_logprob_values,
    bytes=st.none() | st.binary(max_size=4),
    top=st.lists(_alternatives, max_size=2).map(tuple),
)

# ------------------------------------------------------------------------------------- errors

# Every error kind (the classes that own a closed set of reasons).
ERROR_KINDS: tuple[type[allm_errors.AllmError], ...] = (
    allm_errors.EngineError,
    allm_errors.AdapterError,
    allm_errors.StreamError,
    allm_errors.ValidationError,
    allm_errors.ToolError,
    allm_errors.SessionError,
    allm_errors.ImageAdapterError,
    allm_errors.ConfigurationError,
    allm_errors.NonStopFinishError,
)

# Every per-reason subclass, with the kind it belongs to.
REASON_SUBCLASSES: tuple[tuple[type[allm_errors.AllmError], str], ...] = tuple(
    (value, value.default_reason)
    for name in allm_errors.__all__
    if isinstance(value := getattr(allm_errors, name), type)
    and value.__dict__.get("default_reason") is not None
)

_paths = st.lists(st.one_of(ids, st.integers(min_value=0, max_value=9)), max_size=3).map(tuple)

_EXTRA_FIELDS: dict[str, st.SearchStrategy[Any]] = {
    "provider": st.none() | st.sampled_from(["openai", "anthropic", "gemini", "fake"]),
    "status": st.none() | st.integers(min_value=100, max_value=599),
    "retry_after_ms": st.none() | st.integers(min_value=0, max_value=120_000),
    "request_id": st.none() | ids,
    "event_index": st.none() | st.integers(min_value=0, max_value=1000),
    "errors": st.lists(st.tuples(_paths, ids), max_size=3),
    "tool_name": st.none() | tool_names,
    "tool_call_id": st.none() | ids,
    "problems": st.lists(texts, max_size=2),
    "finish_reason": st.none() | st.sampled_from([reason.value for reason in FinishReason]),
    "raw_text": st.none() | texts,
}


def _error_of(
    cls: type[allm_errors.AllmError], cause: st.SearchStrategy[Any]
) -> st.SearchStrategy[allm_errors.AllmError]:
    """Errors of class ``cls`` with any legal reason (``None`` picks a subclass's own reason)."""
    fields = {name: _EXTRA_FIELDS[name] for name in cls.extra_fields}
    if cls.default_reason is not None:
        reason: st.SearchStrategy[str | None] = st.sampled_from([None, cls.default_reason])
    else:
        reason = st.sampled_from(sorted(cls.reasons))
    return st.builds(cls, reason, st.none() | texts, metadata=metadata, cause=cause, **fields)


_error_classes = st.sampled_from(ERROR_KINDS + tuple(cls for cls, _ in REASON_SUBCLASSES))

# A cause is nothing, a JSON value, or another allm error (one level deep).
_leaf_errors = _error_classes.flatmap(lambda cls: _error_of(cls, st.none()))
error_values: st.SearchStrategy[allm_errors.AllmError] = _error_classes.flatmap(
    lambda cls: _error_of(cls, st.none() | json_scalars | _leaf_errors)
)

# Metadata where the runtime puts an error object (a response or session after a failure).
metadata_with_error = st.builds(
    lambda base, error: {**base, "error": error}, metadata, error_values
)

# ------------------------------------------------------------------------------- results

responses = st.builds(
    Response,
    id=st.none() | ids,
    request_id=st.none() | ids,
    model=optional_texts,
    message=st.none() | messages,
    output_text=optional_texts,
    tool_calls=st.lists(tool_calls, max_size=2).map(tuple),
    finish_reason=finish_reasons,
    raw_finish_reason=optional_texts,
    usage=usages,
    raw=json_values,
    metadata=metadata | metadata_with_error,
    reasoning=optional_texts,
    parsed=json_values,
    citations=st.lists(citations, max_size=2).map(tuple),
    server_tool_calls=st.lists(server_tool_calls, max_size=2).map(tuple),
    logprobs=st.none() | st.lists(token_logprobs, max_size=3).map(tuple),
)

threads = st.builds(Thread, messages=st.lists(messages, max_size=2).map(tuple), metadata=metadata)

step_results = st.builds(
    StepResult,
    thread=threads,
    response=responses,
    tool_results=st.lists(messages, max_size=2).map(tuple),
    done=st.booleans(),
    metadata=metadata,
)

chat_results = st.builds(
    ChatResult,
    thread=threads,
    final_response=st.none() | responses,
    steps=st.lists(step_results, max_size=2).map(tuple),
    halted_reason=st.sampled_from([reason.value for reason in HaltReason]) | ids,
    pending_question=optional_texts,
    pending_tool_call_id=st.none() | ids,
    metadata=metadata,
)

# Any field combination: the codec must keep what it is given, valid or not.
sessions = st.builds(
    Session,
    id=st.none() | ids,
    thread=threads,
    status=st.sampled_from(SessionStatus),
    pending_tool_calls=st.lists(tool_calls, max_size=2).map(tuple),
    pending_question=optional_texts,
    pending_tool_call_id=st.none() | ids,
    context=metadata,
    metadata=metadata | metadata_with_error,
)

model_refs = st.builds(
    ModelRef,
    provider=st.sampled_from(["openai", "anthropic", "gemini"]),
    id=ids,
    capabilities=metadata,
    limits=metadata,
    pricing=st.none() | st.dictionaries(keys, optional_costs, max_size=3),
    metadata=metadata,
)

# ------------------------------------------------------------------------------------- images

image_requests = st.builds(
    ImageRequest,
    operation=st.sampled_from(["generate", "edit", "variation"]),
    model=optional_texts,
    prompt=optional_texts,
    n=st.integers(min_value=1, max_value=4),
    size=st.one_of(
        st.none(),
        st.sampled_from(["auto", "1024x1024"]),
        st.tuples(st.integers(min_value=1, max_value=4096), st.integers(1, 4096)),
    ),
    quality=st.none() | st.sampled_from(["low", "standard", "high", "hd", "auto"]),
    style=st.none() | st.sampled_from(["natural", "vivid"]),
    background=st.none() | st.sampled_from(["transparent", "opaque"]),
    response_format=st.sampled_from(["binary", "base64", "url"]),
    input_images=st.lists(images, max_size=2).map(tuple),
    mask=st.none() | images,
    options=metadata,
    metadata=metadata,
)

image_usages = st.builds(
    ImageUsage,
    images=st.integers(min_value=0, max_value=10),
    size=st.none() | st.just("1024x1024"),
    quality=st.none() | st.just("hd"),
    input_tokens=optional_counts,
    output_tokens=optional_counts,
    input_cost=optional_costs,
    output_cost=optional_costs,
    total_cost=optional_costs,
)

image_responses = st.builds(
    ImageResponse,
    images=st.lists(image_parts, max_size=2).map(tuple),
    usage=image_usages,
    request_id=st.none() | ids,
    model=optional_texts,
    id=st.none() | ids,
    raw=json_values,
    metadata=metadata,
)

# ------------------------------------------------------------------------------ engine, retry

_delays = st.integers(min_value=0, max_value=60_000)

retry_policies = st.builds(
    RetryPolicy,
    max_attempts=st.integers(min_value=0, max_value=10),
    base_delay_ms=_delays,
    max_delay_ms=_delays,
    retry_on=st.lists(
        st.integers(min_value=400, max_value=599) | st.sampled_from(["timeout", "network_error"]),
        max_size=4,
    ).map(tuple),
    jitter_ms=_delays,
    respect_retry_after=st.booleans(),
)

_retry_settings = st.one_of(
    st.sampled_from(["default", False]),
    st.fixed_dictionaries(
        {},
        optional={
            "max_attempts": st.integers(min_value=0, max_value=10),
            "base_delay_ms": _delays,
            "retry_on": st.lists(st.integers(min_value=400, max_value=599), max_size=3),
        },
    ),
    retry_policies,
)

engines = st.builds(
    Engine,
    adapter=st.sampled_from([None, "fake"]),
    adapter_opts=metadata,
    model=optional_texts,
    tools=st.lists(tools, max_size=2).map(tuple),
    params=metadata,
    context=metadata,
    retry=_retry_settings,
    metadata=metadata,
    id=ids,
)

# ------------------------------------------------------------------------------------- events

_usage_chunks = st.builds(
    lambda counts: ("usage", counts),
    st.fixed_dictionaries(
        {},
        optional={
            "input_tokens": st.integers(min_value=0, max_value=10**6),
            "output_tokens": st.integers(min_value=0, max_value=10**6),
        },
    ),
)

# What ``include_raw_chunks=True`` hands out for each provider event (allm/adapters/plan.py).
_wire_chunks = st.tuples(
    st.just("wire"), st.none() | ids, json_values | st.binary(max_size=8) | texts
)

EVENT_STRATEGIES: dict[type[Any], st.SearchStrategy[Any]] = {
    events.MessageStarted: st.builds(events.MessageStarted, messages),
    events.TextDelta: st.builds(events.TextDelta, texts, st.none() | ids),
    events.TextCompleted: st.builds(events.TextCompleted, texts, st.none() | ids),
    events.ReasoningDelta: st.builds(events.ReasoningDelta, texts, st.none() | ids),
    events.ReasoningCompleted: st.builds(
        events.ReasoningCompleted, texts, optional_texts, st.none() | ids
    ),
    events.LogprobsDelta: st.builds(
        events.LogprobsDelta, st.lists(token_logprobs, max_size=3).map(tuple)
    ),
    events.ToolCallStarted: st.builds(events.ToolCallStarted, ids, tool_names),
    events.ToolCallDelta: st.builds(events.ToolCallDelta, ids, texts),
    events.ToolCallCompleted: st.builds(
        events.ToolCallCompleted, ids, tool_names, arguments, optional_texts, metadata
    ),
    events.ToolExecutionStarted: st.builds(events.ToolExecutionStarted, ids, tool_names, arguments),
    events.ToolExecutionCompleted: st.builds(
        events.ToolExecutionCompleted, ids, tool_names, json_values | error_values
    ),
    events.ToolResultEncoded: st.builds(events.ToolResultEncoded, ids, texts),
    events.AskUserRequested: st.builds(events.AskUserRequested, ids, tool_names, texts, arguments),
    events.ToolHalt: st.builds(events.ToolHalt, ids, ids, json_values, optional_texts),
    events.MessageCompleted: st.builds(events.MessageCompleted, messages, finish_reasons, metadata),
    events.StepCompleted: st.builds(
        events.StepCompleted,
        responses,
        threads,
        st.sampled_from(["auto", "manual"]),
        st.lists(tool_calls, max_size=2).map(tuple),
    ),
    events.ChatCompleted: st.builds(events.ChatCompleted, chat_results),
    events.RawChunk: st.builds(events.RawChunk, json_values | _usage_chunks | _wire_chunks),
    events.ErrorEvent: st.builds(events.ErrorEvent, error_values),
    events.ServerToolCallCompleted: st.builds(events.ServerToolCallCompleted, server_tool_calls),
    events.CitationAdded: st.builds(events.CitationAdded, citations),
    events.PartialOutput: st.builds(events.PartialOutput, json_values),
    events.OutputCompleted: st.builds(events.OutputCompleted, json_values),
    events.OutputRetry: st.builds(
        events.OutputRetry, st.integers(min_value=2, max_value=9), error_values
    ),
}

event_values: st.SearchStrategy[Any] = st.one_of(*EVENT_STRATEGIES.values())

# --------------------------------------------------------------------------------- everything

# One strategy per Layer A type, by name; ``layer_a_values`` draws from all of them.
DATA_STRATEGIES: dict[str, st.SearchStrategy[Any]] = {
    "Message": messages,
    "TextPart": text_parts,
    "ImageSource": image_sources,
    "Image": images,
    "ImagePart": image_parts,
    "CachePoint": cache_points,
    "DocumentPart": document_parts,
    "AudioPart": audio_parts,
    "ProviderTool": provider_tools,
    "ServerToolCall": server_tool_calls,
    "Citation": citations,
    "Reasoning": reasonings,
    "PromptCache": prompt_caches,
    "Tool": tools,
    "ToolCall": tool_calls,
    "TokenLogprob": token_logprobs,
    "Request": requests,
    "Response": responses,
    "Usage": usages,
    "Thread": threads,
    "StepResult": step_results,
    "ChatResult": chat_results,
    "Session": sessions,
    "ModelRef": model_refs,
    "ImageRequest": image_requests,
    "ImageResponse": image_responses,
    "ImageUsage": image_usages,
    "RetryPolicy": retry_policies,
    "Engine": engines,
}

layer_a_values: st.SearchStrategy[Any] = st.one_of(
    *DATA_STRATEGIES.values(), event_values, error_values
)
