"""Plain helpers for the chat tests: Fake engines, tools, event-kind lists, the §5.2 grammar."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from typing import Any

import allm
from allm.errors import EngineError
from allm.events import (
    ADAPTER_EVENT_TYPES,
    AskUserRequested,
    ChatCompleted,
    ErrorEvent,
    MessageCompleted,
    MessageStarted,
    RawChunk,
    StepCompleted,
    ToolExecutionCompleted,
    ToolExecutionStarted,
    ToolHalt,
    ToolResultEncoded,
)
from allm.providers.fake import finish, text, tool_call

USER = [allm.user("hi")]

# One required integer property: enough for the argument checks to have something to check.
SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"a": {"type": "integer"}},
    "required": ["a"],
}
OPEN_SCHEMA: dict[str, Any] = {"type": "object", "properties": {}}

TRIO_ENDS = (ToolResultEncoded, AskUserRequested, ToolHalt)


def make_tool(
    name: str,
    handler: Callable[..., Any] | None,
    *,
    schema: dict[str, Any] | None = None,
    manual: bool = False,
) -> allm.Tool:
    """A tool with a description and (by default) an open schema."""
    return allm.tool(
        name=name,
        description=f"the {name} tool",
        schema=OPEN_SCHEMA if schema is None else schema,
        handler=handler,
        manual=manual,
    )


def make_engine(
    scripts: Sequence[Sequence[Any]],
    tools: Sequence[allm.Tool] = (),
    *,
    params: dict[str, Any] | None = None,
    context: dict[str, Any] | None = None,
    **adapter_opts: Any,
) -> allm.Engine:
    """A fresh Fake engine (its own script cursor) replaying ``scripts``, one list per call."""
    return allm.Engine(
        adapter="fake",
        tools=tuple(tools),
        params=params or {},
        context=context or {},
        adapter_opts={"scripts": [list(script) for script in scripts], **adapter_opts},
    )


def call_turn(*calls: tuple[str, str, dict[str, Any]]) -> list[Any]:
    """One model turn asking for ``(id, name, arguments)`` calls."""
    return [tool_call(id=id, name=name, arguments=arguments) for id, name, arguments in calls] + [
        finish("tool_calls")
    ]


def text_turn(value: str = "done", reason: str = "stop") -> list[Any]:
    """One model turn answering ``value``."""
    return [text(value), finish(reason)]


def kinds(events: Sequence[Any]) -> list[str]:
    """The event tags, in order."""
    return [event.type for event in events]


def of_type(events: Sequence[Any], cls: type[Any]) -> list[Any]:
    return [event for event in events if isinstance(event, cls)]


def contents(thread: allm.Thread) -> list[tuple[str, Any]]:
    """``(role, content)`` of every message of a thread."""
    return [(str(message.role.value), message.content) for message in thread.messages]


def split_steps(events: Sequence[Any]) -> list[list[Any]]:
    """The events of each step, each list ending with its ``StepCompleted``; anything after the
    last ``StepCompleted`` is a last (unfinished) list."""
    steps: list[list[Any]] = [[]]
    for event in events:
        steps[-1].append(event)
        if isinstance(event, StepCompleted):
            steps.append([])
    if not steps[-1]:
        steps.pop()
    return steps


def _is_unknown_tool_error(event: Any) -> bool:
    return (
        isinstance(event, ErrorEvent)
        and isinstance(event.error, EngineError)
        and event.error.reason == "unknown_tool"
    )


def check_step_grammar(events: Sequence[Any], manual_names: Collection[str] = ()) -> list[str]:
    """Check one step's events against §5.2, with trios in input order (as this library emits
    them); returns the ids of the executed tools, in order. ``manual_names`` are the tools
    flagged ``manual=True`` (they never run)."""
    assert events, "a step has events"
    completed = events[-1]
    assert isinstance(completed, StepCompleted), kinds(events)
    assert sum(isinstance(event, StepCompleted) for event in events) == 1
    body = list(events[:-1])
    # Phase A: the adapter's events.
    assert isinstance(body[0], MessageStarted), kinds(events)
    index = 0
    while (
        index < len(body)
        and isinstance(body[index], ADAPTER_EVENT_TYPES)
        and not _is_unknown_tool_error(body[index])
    ):
        index += 1
    adapter, rest = body[:index], body[index:]
    assert sum(isinstance(event, MessageStarted) for event in adapter) == 1
    assert sum(isinstance(event, MessageCompleted) for event in adapter) <= 1
    for position, event in enumerate(adapter):
        if isinstance(event, MessageCompleted):
            assert all(isinstance(e, RawChunk | ErrorEvent) for e in adapter[position + 1 :])
    response = completed.response
    if rest and _is_unknown_tool_error(rest[0]):  # the unknown-tool error, then nothing else
        assert len(rest) == 1, kinds(events)
        assert rest[0].error.metadata["tool_name"] in {call.name for call in response.tool_calls}
        return []
    # Phase B: one contiguous trio per executed tool.
    assert len(rest) % 3 == 0, kinds(events)
    ids: list[str] = []
    for start in range(0, len(rest), 3):
        begun, done, end = rest[start : start + 3]
        assert isinstance(begun, ToolExecutionStarted), kinds(events)
        assert isinstance(done, ToolExecutionCompleted), kinds(events)
        assert isinstance(end, TRIO_ENDS), kinds(events)
        end_id = end.id if isinstance(end, ToolResultEncoded) else end.tool_call_id
        assert begun.id == done.id == end_id
        ids.append(begun.id)
    runs = (
        completed.mode == "auto"
        and response.finish_reason == "tool_calls"
        and bool(response.tool_calls)
    )
    manual = set(manual_names) | {call.name for call in completed.manual_tool_calls}
    expected = [call.id for call in response.tool_calls if call.name not in manual] if runs else []
    assert ids == expected, (ids, expected)
    return ids


def check_chat_grammar(
    events: Sequence[Any], manual_names: Collection[str] = ()
) -> list[list[str]]:
    """One or more step streams back to back, then exactly one ``ChatCompleted``. A later step
    that failed its pre-flight contributes a lone ``ErrorEvent`` just before ``ChatCompleted``."""
    assert events and isinstance(events[-1], ChatCompleted), kinds(events)
    assert sum(isinstance(event, ChatCompleted) for event in events) == 1
    body = list(events[:-1])
    if body and isinstance(body[-1], ErrorEvent) and not isinstance(body[-1].error, EngineError):
        body.pop()  # pre-flight failure of a later step: data, no step of its own
    steps = split_steps(body)
    assert steps, "a chat has at least one step"
    return [check_step_grammar(step, manual_names) for step in steps]
