"""Opt-in validation of Layer A values. Each check collects every problem before raising.

Each ``errors_*`` function returns ``(path, reason)`` pairs; each plain function raises one
``ValidationError`` listing all of them, or returns ``None`` when the value is valid.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .data.images import ImageRequest
from .data.messages import AudioPart, DocumentPart, Image, ImagePart, Message, Role, TextPart
from .data.models import ModelRef
from .data.output import is_typed_output
from .data.reasoning import (
    CACHE_RETENTIONS,
    REASONING_EFFORTS,
    REASONING_SUMMARIES,
    CachePoint,
    PromptCache,
    Reasoning,
)
from .data.request import MAX_TOP_LOGPROBS, Request
from .data.results import Session, SessionStatus, Thread
from .data.server_tools import PROVIDER_TOOL_KINDS, ProviderTool
from .data.tools import RESERVED_TOOL_NAMES, TOOL_NAME_PATTERN, Tool, ToolCall
from .errors import FieldError, Path, ValidationError

__all__ = [
    "errors_image_request",
    "errors_json",
    "errors_message",
    "errors_request",
    "errors_session",
    "errors_thread",
    "errors_tool",
    "image_request",
    "message",
    "request",
    "session",
    "thread",
    "tool",
]

_ROLES = frozenset(role.value for role in Role)
_TOOL_CHOICE_MODES = frozenset({"auto", "none", "required"})
_STATUSES = frozenset(status.value for status in SessionStatus)


def _raise_if(reason: str, errors: list[FieldError]) -> None:
    if errors:
        raise ValidationError(reason, errors=errors)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def errors_json(value: Any, path: Path = ()) -> list[FieldError]:
    """Where ``value`` cannot be JSON-encoded as sent: a value that is not null, a bool, a number,
    a string, a list or a mapping (``"not_json_encodable"``), a mapping key that is not a string
    (``"non_string_key"``), NaN or an infinity (``"non_finite_number"``), a container inside
    itself (``"circular_reference"``)."""
    errors: list[FieldError] = []
    _walk_json(value, path, errors, set())
    return errors


def _is_map(value: Any) -> bool:
    """A mapping; a plain dict is told without the ABC check."""
    return type(value) is dict or isinstance(value, Mapping)


def _walk_json(value: Any, path: Path, errors: list[FieldError], open_ids: set[int]) -> None:
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:
        return
    if kind is dict and not value:
        return  # the common empty options, metadata and params
    if isinstance(value, str | bool | int):
        return
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            errors.append((path, "non_finite_number"))
        return
    if isinstance(value, Mapping | list | tuple):
        if id(value) in open_ids:
            errors.append((path, "circular_reference"))
            return
        open_ids.add(id(value))
        if isinstance(value, Mapping):
            for key, item in value.items():
                if not isinstance(key, str):
                    errors.append(((*path, repr(key)), "non_string_key"))
                    continue
                _walk_json(item, (*path, key), errors, open_ids)
        else:
            for index, item in enumerate(value):
                _walk_json(item, (*path, index), errors, open_ids)
        open_ids.discard(id(value))
        return
    errors.append((path, "not_json_encodable"))


def errors_message(msg: Any, path: Path = ()) -> list[FieldError]:
    """Problems with one message."""
    if not isinstance(msg, Message):
        return [(path, "not_a_message")]
    errors: list[FieldError] = []
    role = msg.role
    if not isinstance(role, str) or role not in _ROLES:
        errors.append(((*path, "role"), "unknown"))
    content = msg.content
    if isinstance(content, tuple):
        for index, part in enumerate(content):
            if isinstance(part, dict):
                # A raw provider-shaped part: the typed ImagePart / TextPart are the only content.
                errors.append(((*path, "content", index), "vision_not_in_v0_2"))
            elif not isinstance(part, TextPart | ImagePart | DocumentPart | AudioPart | CachePoint):
                errors.append(((*path, "content", index), "invalid_part_type"))
            elif isinstance(part, ImagePart) and not isinstance(part.image, Image):
                errors.append(((*path, "content", index, "image"), "invalid_type"))
    elif not isinstance(content, str):
        errors.append(((*path, "content"), "invalid_type"))
    if role == "tool" and not msg.tool_call_id:
        errors.append(((*path, "tool_call_id"), "required"))
    for index, call in enumerate(msg.tool_calls):
        if not isinstance(call, ToolCall):
            errors.append(((*path, "tool_calls", index), "invalid_type"))
        else:
            errors.extend(errors_json(call.arguments, (*path, "tool_calls", index, "arguments")))
    if not _is_map(msg.metadata):
        errors.append(((*path, "metadata"), "not_a_map"))
    return errors


def errors_tool(value: Any, path: Path = ()) -> list[FieldError]:
    """Problems with one tool definition."""
    if isinstance(value, ProviderTool):
        if value.kind not in PROVIDER_TOOL_KINDS:
            return [((*path, "kind"), "unknown")]
        return errors_json(value.config, (*path, "config"))
    if not isinstance(value, Tool):
        return [(path, "not_a_tool")]
    errors: list[FieldError] = []
    name = value.name
    if not isinstance(name, str) or not name:
        errors.append(((*path, "name"), "empty"))
    elif not TOOL_NAME_PATTERN.fullmatch(name):  # match() would let "name\n" through
        errors.append(((*path, "name"), "invalid_format"))
    elif name in RESERVED_TOOL_NAMES:
        errors.append(((*path, "name"), "reserved_tool_name"))
    if not isinstance(value.description, str):
        errors.append(((*path, "description"), "not_a_string"))
    if not _is_map(value.schema):
        errors.append(((*path, "schema"), "not_a_map"))
    else:
        errors.extend(errors_json(value.schema, (*path, "schema")))
    return errors


def _errors_response_format(value: Any) -> list[FieldError]:
    if value is None or value == "text" or is_typed_output(value):
        return []  # a typed output is checked when its spec is built
    if not isinstance(value, Mapping):
        return [(("response_format",), "invalid_shape")]
    errors: list[FieldError] = []
    if value.get("type") == "json_schema":
        if not isinstance(value.get("name"), str) or not value.get("name"):
            errors.append((("response_format", "name"), "required"))
        if not isinstance(value.get("schema"), Mapping):
            errors.append((("response_format", "schema"), "not_a_map"))
    return errors + errors_json(value, ("response_format",))


def _is_json_schema_format(value: Any) -> bool:
    return (isinstance(value, Mapping) and value.get("type") == "json_schema") or is_typed_output(
        value
    )


def errors_request(req: Any) -> list[FieldError]:
    """Problems with a request: messages, tools, sampling parameters, formats."""
    if not isinstance(req, Request):
        return [((), "not_a_request")]
    errors: list[FieldError] = []
    if not isinstance(req.model, str | ModelRef | tuple | type(None)):
        errors.append((("model",), "invalid_type"))
    if not req.messages:
        errors.append((("messages",), "empty"))
    for index, msg in enumerate(req.messages):
        errors.extend(errors_message(msg, ("messages", index)))
    seen: set[str] = set()
    for index, item in enumerate(req.tools):
        errors.extend(errors_tool(item, ("tools", index)))
        if isinstance(item, Tool) and isinstance(item.name, str):
            if item.name in seen:
                errors.append((("tools", index, "name"), "duplicate_name"))
            seen.add(item.name)
    choice = req.tool_choice
    if isinstance(choice, str):
        if choice not in _TOOL_CHOICE_MODES and choice not in seen:
            errors.append((("tool_choice",), "unknown_tool"))
    elif isinstance(choice, tuple):
        if len(choice) != 2 or choice[0] != "tool" or not isinstance(choice[1], str):
            errors.append((("tool_choice",), "invalid_shape"))
        elif choice[1] not in seen:
            errors.append((("tool_choice",), "unknown_tool"))
    elif _is_map(choice):
        errors.extend(errors_json(choice, ("tool_choice",)))
    elif choice is not None:
        errors.append((("tool_choice",), "invalid_shape"))
    if req.temperature is not None:
        if not _is_number(req.temperature):
            errors.append((("temperature",), "invalid_type"))
        elif not 0.0 <= req.temperature <= 2.0:
            errors.append((("temperature",), "out_of_range"))
    if req.max_tokens is not None and (
        not isinstance(req.max_tokens, int)
        or isinstance(req.max_tokens, bool)
        or req.max_tokens <= 0
    ):
        errors.append((("max_tokens",), "must_be_positive"))
    errors.extend(_errors_neutral(req))
    errors.extend(_errors_response_format(req.response_format))
    if req.structured_finalize and not _is_json_schema_format(req.response_format):
        errors.append((("structured_finalize",), "requires_json_schema"))
    if not _is_map(req.options):
        errors.append((("options",), "not_a_map"))
    else:
        errors.extend(errors_json(req.options, ("options",)))
    if not _is_map(req.metadata):
        errors.append((("metadata",), "not_a_map"))
    return errors


def errors_thread(value: Any) -> list[FieldError]:
    """Problems with a thread's messages."""
    if not isinstance(value, Thread):
        return [(("thread",), "invalid_type")]
    errors: list[FieldError] = []
    for index, msg in enumerate(value.messages):
        errors.extend(errors_message(msg, ("messages", index)))
    return errors


def errors_session(value: Any) -> list[FieldError]:
    """Problems with a session: its thread, and status against its pending fields."""
    if not isinstance(value, Session):
        return [(("session",), "invalid_type")]
    errors = [(("thread", *path), reason) for path, reason in errors_thread(value.thread)]
    status = value.status
    if not isinstance(status, str) or status not in _STATUSES:
        errors.append((("status",), "unknown"))
    elif status == "awaiting_user":
        if not value.pending_question:
            errors.append((("pending_question",), "required_for_status"))
        if not value.pending_tool_call_id:
            errors.append((("pending_tool_call_id",), "required_for_status"))
    elif status == "awaiting_tools":
        if not value.pending_tool_calls:
            errors.append((("pending_tool_calls",), "required_for_status"))
    elif status == "error" and "error" not in value.metadata:
        errors.append((("metadata",), "error_required_for_status"))
    if status != "awaiting_user" and (value.pending_question or value.pending_tool_call_id):
        errors.append((("pending_question",), "forbidden_for_status"))
    if status != "awaiting_tools" and value.pending_tool_calls:
        errors.append((("pending_tool_calls",), "forbidden_for_status"))
    return errors


_IMAGE_OPERATIONS = frozenset({"generate", "edit", "variation"})
_IMAGE_FORMATS = frozenset({"binary", "base64", "url"})


def errors_image_request(value: Any) -> list[FieldError]:
    """Problems with an image request: operation arity, prompt, count, formats."""
    if not isinstance(value, ImageRequest):
        return [((), "not_an_image_request")]
    errors: list[FieldError] = []
    operation = value.operation
    has_prompt = isinstance(value.prompt, str) and bool(value.prompt.strip())
    images = len(value.input_images)
    if operation not in _IMAGE_OPERATIONS:
        errors.append((("operation",), "unknown"))
    elif operation == "generate":
        if not has_prompt:
            errors.append((("prompt",), "required_for_operation"))
        if images:
            errors.append((("input_images",), "forbidden_for_operation"))
    elif operation == "edit":
        if not has_prompt:
            errors.append((("prompt",), "required_for_operation"))
        if not 1 <= images <= 2:
            errors.append((("input_images",), "one_or_two_required"))
    else:
        if images != 1:
            errors.append((("input_images",), "exactly_one_required"))
        if value.prompt is not None:
            errors.append((("prompt",), "forbidden_for_operation"))
    if value.mask is not None and not images:
        errors.append((("mask",), "requires_input_image"))
    if not isinstance(value.n, int) or isinstance(value.n, bool) or value.n < 1:
        errors.append((("n",), "must_be_positive"))
    if value.response_format not in _IMAGE_FORMATS:
        errors.append((("response_format",), "unknown"))
    for index, image in enumerate(value.input_images):
        if not isinstance(image, Image):
            errors.append((("input_images", index), "invalid_type"))
    errors.extend(errors_json(value.options, ("options",)))
    return errors


def request(value: Any) -> None:
    """Raise ``ValidationError("invalid_request")`` listing every problem of ``value``."""
    _raise_if("invalid_request", errors_request(value))


def message(value: Any) -> None:
    """Raise ``ValidationError("invalid_message")`` listing every problem of ``value``."""
    _raise_if("invalid_message", errors_message(value))


def tool(value: Any) -> None:
    """Raise ``ValidationError("invalid_tool")`` listing every problem of ``value``."""
    _raise_if("invalid_tool", errors_tool(value))


def thread(value: Any) -> None:
    """Raise ``ValidationError("invalid_thread")`` listing every problem of ``value``."""
    _raise_if("invalid_thread", errors_thread(value))


def session(value: Any) -> None:
    """Raise ``ValidationError("invalid_session")`` listing every problem of ``value``."""
    _raise_if("invalid_session", errors_session(value))


def image_request(value: Any) -> None:
    """Raise ``ValidationError("invalid_image_request")`` listing every problem of ``value``."""
    _raise_if("invalid_image_request", errors_image_request(value))


def _errors_neutral(req: Request) -> list[tuple[tuple[str | int, ...], str]]:
    """The neutral sampling fields: ``stop`` strings, ``top_p`` in [0, 1], a 64-bit integer
    ``seed``, a bool ``parallel_tool_calls``, ``logprobs`` a bool or a count of alternatives in
    [0, 20]."""
    errors: list[tuple[tuple[str | int, ...], str]] = []
    if not isinstance(req.stop, tuple):
        errors.append((("stop",), "invalid_type"))
    else:
        errors.extend(
            (("stop", index), "not_a_string")
            for index, item in enumerate(req.stop)
            if not isinstance(item, str) or not item
        )
    if req.top_p is not None:
        if not _is_number(req.top_p):
            errors.append((("top_p",), "invalid_type"))
        elif not 0.0 <= req.top_p <= 1.0:
            errors.append((("top_p",), "out_of_range"))
    if req.seed is not None and (not isinstance(req.seed, int) or isinstance(req.seed, bool)):
        errors.append((("seed",), "invalid_type"))
    elif req.seed is not None and not -(2**63) <= req.seed < 2**63:
        errors.append((("seed",), "out_of_range"))  # every wire takes a 64-bit integer at most
    if req.parallel_tool_calls is not None and not isinstance(req.parallel_tool_calls, bool):
        errors.append((("parallel_tool_calls",), "invalid_type"))
    logprobs = req.logprobs
    if logprobs is not None and not isinstance(logprobs, bool):
        if not isinstance(logprobs, int):
            errors.append((("logprobs",), "invalid_type"))
        elif not 0 <= logprobs <= MAX_TOP_LOGPROBS:
            errors.append((("logprobs",), "out_of_range"))
    errors.extend(_errors_reasoning(req.reasoning))
    errors.extend(_errors_cache(req))
    return errors


def _errors_reasoning(value: Any) -> list[FieldError]:
    """A ``Reasoning``: a known effort, a positive integer budget, a known summary."""
    if value is None:
        return []
    if not isinstance(value, Reasoning):
        return [(("reasoning",), "invalid_type")]
    errors: list[FieldError] = []
    if value.effort is not None and value.effort not in REASONING_EFFORTS:
        errors.append((("reasoning", "effort"), "unknown_value"))
    budget = value.budget_tokens
    if budget is not None and (not isinstance(budget, int) or isinstance(budget, bool)):
        errors.append((("reasoning", "budget_tokens"), "invalid_type"))
    elif budget is not None and budget < 0:
        errors.append((("reasoning", "budget_tokens"), "out_of_range"))
    if value.summary is not None and value.summary not in REASONING_SUMMARIES:
        errors.append((("reasoning", "summary"), "unknown_value"))
    return errors


def _errors_cache(req: Request) -> list[FieldError]:
    """``prompt_cache`` is ``"auto"`` or a ``PromptCache``; every retention is short or long."""
    errors: list[FieldError] = []
    value = req.prompt_cache
    if isinstance(value, PromptCache):
        if value.retention not in CACHE_RETENTIONS:
            errors.append((("prompt_cache", "retention"), "unknown_value"))
        if value.key is not None and (not isinstance(value.key, str) or not value.key):
            errors.append((("prompt_cache", "key"), "invalid_type"))
    elif value is not None and value != "auto":
        errors.append((("prompt_cache",), "unknown_value"))
    for index, message in enumerate(req.messages):
        if not isinstance(message, Message) or not isinstance(message.content, tuple):
            continue
        for position, part in enumerate(message.content):
            if isinstance(part, CachePoint) and part.retention not in CACHE_RETENTIONS:
                errors.append(
                    (("messages", index, "content", position, "retention"), "unknown_value")
                )
    return errors
