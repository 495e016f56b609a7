"""A chat or step call's options, checked once before anything runs: the ``ChatRun``."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .. import validate
from .._hooks import apply_override
from ..config import get_settings
from ..data.messages import Message
from ..data.results import StepResult, Thread
from ..data.tools import Tool
from ..engine import Engine
from ..errors import ConfigurationError, ValidationError
from ..tooling import (
    DEFAULT_ENCODER,
    DEFAULT_EXECUTOR,
    handler_arity,
    is_async_callable,
)
from .compact import with_tool_help
from .options import CHAT_OPTION_KEYS, check_options
from .runner import request_id_from
from .tool_runner import validate_on_tool_error

DEFAULT_NUDGE = "Now provide your final structured response."
DEFAULT_MAX_TURNS = 8
DEFAULT_TOOL_TIMEOUT = 30.0

# Options the chat layer consumes; the rest go to each step's model call.
_CHAT_KEYS = frozenset(
    {
        "mode",
        "max_turns",
        "halt_when",
        "on_tool_error",
        "tool_timeout",
        "max_concurrency",
        "tool_executor",
        "tool_result_encoder",
        "context",
        "session_id",
        "structured_finalize",
        "structured_finalize_nudge",
        "tools",
        "prepare_step",
        "history",
    }
)


@dataclass(frozen=True, slots=True)
class ChatRun:
    """Everything a chat or step run needs, resolved and checked once at the call."""

    engine: Engine
    request_id: str
    mode: str
    max_turns: int
    halt_when: Callable[[StepResult], Any] | None
    on_tool_error: Any
    tool_timeout: float | None
    max_concurrency: int | None
    executor: Any
    encoder: Any
    context: Mapping[str, Any]
    session_id: str | None
    tools: tuple[Tool, ...]
    step_opts: Mapping[str, Any]
    structured_finalize: bool
    response_format: Any
    nudge: str
    prepare_step: Callable[[Any], Any] | None = None
    history: Any = None

    @property
    def tools_by_name(self) -> dict[str, Tool]:
        # Provider tools run on the provider's side: the loop never executes them.
        return {item.name: item for item in self.tools if isinstance(item, Tool)}


def _as_thread(value: Any) -> Thread:
    if isinstance(value, Thread):
        thread = value
    elif isinstance(value, Sequence) and not isinstance(value, str | bytes):
        if not all(isinstance(item, Message) for item in value):
            raise ValidationError("invalid_thread", errors=[(("thread",), "invalid_type")])
        thread = Thread(tuple(value))
    else:
        raise ValidationError("invalid_thread", errors=[(("thread",), "invalid_type")])
    validate.thread(thread)
    return thread


def _instance(value: Any) -> Any:
    """An executor or encoder given as an object, a class or a ``"module:Class"`` path."""
    if isinstance(value, str):
        from ..registry import load_class

        value = load_class(value)
    return value() if isinstance(value, type) else value


def _positive_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def resolve_run(
    engine: Any, opts: Mapping[str, Any], *, sync_api: bool, list_mcp: bool = True
) -> ChatRun:
    """Check and resolve the chat options, listing every problem in one ``ConfigurationError``;
    then the tools of the engine's MCP servers (listed once per session, unless ``list_mcp`` is
    false), so a server that cannot be listed raises before any model request."""
    check_options(opts, CHAT_OPTION_KEYS)
    engine = apply_override(engine)
    if not isinstance(engine, Engine):
        raise ConfigurationError(
            "invalid_option", problems=[f"engine must be an Engine, got {engine!r}"]
        )
    problems: list[str] = []
    settings = get_settings()
    mode = opts.get("mode", engine.params.get("mode", "auto"))
    if mode not in ("auto", "manual"):
        problems.append(f'mode must be "auto" or "manual", got {mode!r}')
    max_turns = opts.get("max_turns", engine.params.get("max_turns", settings.max_turns))
    if max_turns is None:
        max_turns = DEFAULT_MAX_TURNS
    if not _positive_int(max_turns):
        problems.append(f"max_turns must be a positive int, got {max_turns!r}")
    halt_when = opts.get("halt_when")
    if halt_when is not None and not callable(halt_when):
        problems.append(f"halt_when must be callable, got {halt_when!r}")
    on_tool_error = opts.get("on_tool_error", engine.params.get("on_tool_error", "continue"))
    problems.extend(validate_on_tool_error(on_tool_error))
    tool_timeout = opts.get("tool_timeout", engine.params.get("tool_timeout", DEFAULT_TOOL_TIMEOUT))
    if tool_timeout is not None and (
        not isinstance(tool_timeout, int | float)
        or isinstance(tool_timeout, bool)
        or tool_timeout <= 0
    ):
        problems.append(f"tool_timeout must be a positive number of seconds, got {tool_timeout!r}")
    max_concurrency = opts.get("max_concurrency", engine.params.get("max_concurrency"))
    if max_concurrency is not None and not _positive_int(max_concurrency):
        problems.append(f"max_concurrency must be a positive int, got {max_concurrency!r}")
    executor = _instance(opts.get("tool_executor") or engine.tool_executor or DEFAULT_EXECUTOR)
    encoder = _instance(
        opts.get("tool_result_encoder") or engine.tool_result_encoder or DEFAULT_ENCODER
    )
    if not callable(getattr(executor, "execute", None)) and not callable(
        getattr(executor, "aexecute", None)
    ):
        problems.append(f"tool_executor must have an execute method, got {executor!r}")
    if not callable(getattr(encoder, "encode", None)):
        problems.append(f"tool_result_encoder must have an encode method, got {encoder!r}")
    context = opts.get("context", engine.context)
    if not isinstance(context, Mapping):
        problems.append(f"context must be a mapping, got {context!r}")
    extra_tools = opts.get("tools") or ()
    if not isinstance(extra_tools, list | tuple) or not all(
        isinstance(item, Tool) for item in extra_tools
    ):  # checked before merging: the merge reads each tool's name
        problems.append(f"tools must be a list of Tool values, got {extra_tools!r}")
        extra_tools = ()
    tools = with_tool_help(engine.resolve_tools({"tools": extra_tools} if extra_tools else {}))
    for item in tools:
        if (
            isinstance(item, Tool)
            and item.handler is not None
            and handler_arity(item.handler) not in (1, 2)
        ):
            problems.append(
                f"handler of tool {item.name!r} must take (arguments) or (arguments, ctx)"
            )
    if sync_api:
        for item in tools:
            if (
                isinstance(item, Tool)
                and item.handler is not None
                and is_async_callable(item.handler)
            ):
                problems.append(
                    f"tool {item.name!r} has an async handler; use the async API (achat, astep, ...)"
                )
        sync_execute = getattr(executor, "execute", None)
        if executor is not DEFAULT_EXECUTOR and (
            is_async_callable(sync_execute) or not callable(sync_execute)
        ):  # async-only executors (just ``aexecute``) included
            problems.append("the tool executor is async; use the async API (achat, astep, ...)")
    nudge = opts.get(
        "structured_finalize_nudge",
        engine.params.get("structured_finalize_nudge", settings.structured_finalize_nudge),
    )
    if nudge is None:
        nudge = DEFAULT_NUDGE
    if not isinstance(nudge, str):
        problems.append(f"structured_finalize_nudge must be a str, got {nudge!r}")
    prepare_step = opts.get("prepare_step")
    if prepare_step is not None and not callable(prepare_step):
        problems.append(f"prepare_step must be callable, got {prepare_step!r}")
    history = opts.get("history")
    if history is not None and not callable(getattr(history, "reduce", None)):
        problems.append(
            f"history must be a reducer from allm.history (with a reduce method), got {history!r}"
        )
    if problems:
        if any("async" in problem for problem in problems):
            reason = "async_handler_in_sync_api"
        elif all(problem.startswith("handler of tool") for problem in problems):
            reason = "invalid_tool"
        else:
            reason = "invalid_option"
        raise ConfigurationError(reason, problems=problems)
    if engine.mcp_servers and list_mcp:
        listed = _mcp().engine_tools(engine, None if tool_timeout is None else float(tool_timeout))
        tools = engine.resolve_tools(
            {"tools": extra_tools} if extra_tools else {}, base=(*engine.tools, *listed)
        )
    response_format = opts.get("response_format", engine.params.get("response_format"))
    structured = bool(
        opts.get("structured_finalize", engine.params.get("structured_finalize", False))
    )
    step_opts = {key: value for key, value in opts.items() if key not in _CHAT_KEYS}
    return ChatRun(
        engine=engine,
        request_id=request_id_from(opts),
        mode=mode,
        max_turns=max_turns,
        halt_when=halt_when,
        on_tool_error=on_tool_error,
        tool_timeout=None if tool_timeout is None else float(tool_timeout),
        max_concurrency=max_concurrency,
        executor=executor,
        encoder=encoder,
        context=context,
        session_id=opts.get("session_id"),
        tools=tools,
        step_opts=step_opts,
        structured_finalize=structured,
        response_format=response_format,
        nudge=nudge,
        prepare_step=prepare_step,
        history=history,
    )


def _mcp() -> Any:
    # allm.mcp is a room above this one (it holds live sessions and the SDK); it is imported by
    # name, and only for an engine that has MCP servers, so no other call ever loads it.
    return importlib.import_module("allm.mcp")


async def list_mcp_tools(engine: Any, opts: Mapping[str, Any]) -> None:
    """List an engine's MCP tools without blocking the event loop; ``resolve_run`` then finds
    them listed. The options are checked first, so bad input still raises before any I/O."""
    if isinstance(engine, Engine) and engine.mcp_servers:
        run = resolve_run(engine, opts, sync_api=False, list_mcp=False)
        await _mcp().aengine_tools(engine, run.tool_timeout)
