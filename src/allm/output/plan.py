"""Typed output around an adapter's plans: the request each mode sends, partial values, validation
and the re-ask loop. Plans are plain generators of events and effects, so one implementation
serves the sync and async drivers, ``generate``, ``step``, ``chat`` and sessions alike.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Generator, Iterator
from dataclasses import replace
from typing import Any

from ..data.messages import Message, Role
from ..data.request import Request
from ..data.response import FinishReason, Response, add_usage
from ..data.tools import Tool, ToolCall
from ..effects import Effect
from ..errors import OutputValidationError
from ..events import (
    ErrorEvent,
    Event,
    MessageCompleted,
    OutputCompleted,
    OutputRetry,
    PartialOutput,
    TextCompleted,
    TextDelta,
    ToolCallCompleted,
    ToolCallDelta,
    ToolCallStarted,
)
from .check import validate_answer
from .partial import NOTHING, PartialParser
from .schema import is_wrapped, openai_schema
from .spec import OutputSpec

__all__ = [
    "OUTPUT_TOOL_PREFIX",
    "output_tool_name",
    "reask_request",
    "typed_generate",
    "typed_request",
    "typed_stream",
]

OUTPUT_TOOL_PREFIX = "respond_with_json_"  # the name wave 1 gave Anthropic's structured tool
_OUTPUT_TOOL_DESCRIPTION = "Give the final answer: call this once, with the whole result."
_PROMPT = (
    "Answer with a single JSON value and nothing else (no prose, no code fence). "
    "It must match this JSON schema:\n{schema}"
)
_REASK = (
    "That answer does not match the required schema: {problems}. "
    "Answer again with the whole corrected JSON value only."
)
_NOT_JUDGED = frozenset({FinishReason.TOOL_CALLS, FinishReason.CONTENT_FILTER, FinishReason.ERROR})

Start = Callable[[Request], Iterator[Any]]


def output_tool_name(spec: OutputSpec) -> str:
    """The name of the tool that carries the answer in tool mode."""
    return (OUTPUT_TOOL_PREFIX + spec.name)[:64]


def typed_request(request: Request, spec: OutputSpec) -> Request:
    """What ``request`` sends for ``spec`` (its mode already resolved): native keeps the spec as
    the format for the adapter to translate; tool adds the answer tool (forced, or required
    beside the caller's tools); prompted puts the schema in a leading system message."""
    if spec.mode == "tool":
        # The strict form is valid JSON Schema on every wire; OpenAI also enforces it.
        schema, strict = openai_schema(spec)
        tool = Tool(
            output_tool_name(spec),
            _OUTPUT_TOOL_DESCRIPTION,
            schema,
            strict=strict,
        )
        choice = request.tool_choice
        if choice is None:
            choice = "required" if request.tools else ("tool", tool.name)
        tools = (*request.tools, tool)
        return replace(request, tools=tools, tool_choice=choice, response_format=spec)
    if spec.mode == "prompted":
        shown = json.dumps(spec.schema, separators=(",", ":"))
        prompt = Message(Role.SYSTEM, _PROMPT.format(schema=shown))
        return replace(request, messages=(prompt, *request.messages), response_format=spec)
    return replace(request, response_format=spec)


def reask_request(request: Request, error: OutputValidationError) -> Request:
    """``request`` followed by the invalid answer and what was wrong with it."""
    answer = Message(Role.ASSISTANT, error.raw_text or "")
    correction = Message(Role.USER, _REASK.format(problems=error.message))
    return replace(request, messages=(*request.messages, answer, correction))


class _Attempt:
    """One attempt's view of the events: the answer text, partial values, how it ended."""

    __slots__ = ("failed", "finish", "parser", "spec", "text_parts", "tool_id", "tool_name")

    def __init__(self, spec: OutputSpec) -> None:
        self.spec = spec
        self.parser = PartialParser(wrapped=is_wrapped(spec))
        self.tool_name = output_tool_name(spec) if spec.mode == "tool" else None
        self.tool_id: str | None = None
        self.text_parts: list[str] = []
        self.finish: Any = None
        self.failed = False

    @property
    def text(self) -> str:
        return "".join(self.text_parts)

    def _partial(self, value: Any) -> Iterator[Event]:
        if value is not NOTHING:
            yield PartialOutput(value)

    def events(self, event: Any) -> Iterator[Event]:
        """The events to pass on for one adapter event (the answer tool's become text)."""
        kind = type(event)
        if kind is TextDelta:
            yield event
            self.text_parts.append(event.delta)
            yield from self._partial(self.parser.feed(event.delta))
        elif kind is TextCompleted:
            yield event
            if event.text != self.text:  # the deltas did not build it: start from it
                self.text_parts = [event.text]
                yield from self._partial(self.parser.reset(event.text))
        elif kind is ToolCallStarted and event.name == self.tool_name and self.tool_id is None:
            self.tool_id = event.id
        elif kind is ToolCallDelta and event.id == self.tool_id:
            yield from self.events(TextDelta(event.arguments_delta))
        elif kind is ToolCallCompleted and (
            event.id == self.tool_id or event.name == self.tool_name
        ):
            self.tool_id = event.id
            text = event.raw_arguments or json.dumps(event.arguments, separators=(",", ":"))
            yield from self.events(TextCompleted(text))
        elif kind is MessageCompleted:
            yield self._completed(event)
        else:
            if kind is ErrorEvent:
                self.failed = True
            yield event

    def _completed(self, event: MessageCompleted) -> MessageCompleted:
        finish = event.finish_reason
        if self.tool_id is not None:
            calls = tuple(call for call in event.message.tool_calls if call.id != self.tool_id)
            message = replace(event.message, content=self.text, tool_calls=calls)
            finish = FinishReason.STOP if finish in ("tool_calls", None) else finish
            event = replace(event, message=message, finish_reason=finish)
        self.finish = None if finish is None else FinishReason(finish)
        return event

    def judged(self) -> bool:
        """Whether this attempt ended with an answer to validate."""
        return not self.failed and self.finish not in _NOT_JUDGED


def typed_stream(
    first: Iterator[Any], start: Start, request: Request, spec: OutputSpec, retries: int
) -> Generator[Any, Any, None]:
    """The plan of a typed call: each attempt's events (plus ``PartialOutput``), then
    ``OutputCompleted``, or ``OutputRetry`` and the next attempt, or the folded error.

    ``first`` is the adapter's plan for ``request`` (made at pre-flight, so its checks raise
    there); ``start`` makes the plan of each re-ask."""
    attempt = 1
    plan = first
    while True:
        state = _Attempt(spec)
        reply: Any = None
        try:
            while True:
                try:
                    item = plan.send(reply)  # type: ignore[attr-defined]
                except StopIteration:
                    break
                if isinstance(item, Effect):
                    reply = yield item
                    continue
                reply = None
                if type(item) is TextDelta:  # the hot path, without a generator per delta
                    yield item
                    state.text_parts.append(item.delta)
                    value = state.parser.feed(item.delta)
                    if value is not NOTHING:
                        yield PartialOutput(value)
                    continue
                yield from state.events(item)
        finally:
            plan.close()  # type: ignore[attr-defined]
        last = state.parser.flush()
        if last is not NOTHING:
            yield PartialOutput(last)
        if not state.judged():
            return
        value, error = validate_answer(spec, state.text)
        if error is None:
            yield OutputCompleted(value)
            return
        if attempt > retries:
            yield ErrorEvent(error)
            return
        attempt += 1
        yield OutputRetry(attempt, error)
        request = reask_request(request, error)
        plan = start(request)


def _lift_tool(response: Response, spec: OutputSpec) -> Response:
    """A whole response in tool mode: the answer tool's arguments become the text."""
    name = output_tool_name(spec)
    answer: ToolCall | None = next((c for c in response.tool_calls if c.name == name), None)
    if answer is None:
        return response
    text = answer.raw_arguments or json.dumps(answer.arguments, separators=(",", ":"))
    calls = tuple(call for call in response.tool_calls if call is not answer)
    finish = response.finish_reason
    if finish in (FinishReason.TOOL_CALLS, None):
        finish = FinishReason.STOP
    message = response.message
    if message is not None:
        message = replace(message, content=text, tool_calls=calls)
    return replace(
        response, output_text=text, tool_calls=calls, finish_reason=finish, message=message
    )


def typed_generate(
    first: Generator[Effect, Any, Response],
    start: Callable[[Request], Generator[Effect, Any, Response]],
    request: Request,
    spec: OutputSpec,
    retries: int,
) -> Generator[Effect, Any, Response]:
    """The non-streaming twin of ``typed_stream``: the same attempts, folded as they come."""
    attempt = 1
    usage = None
    plan = first
    while True:
        response = yield from plan
        if spec.mode == "tool":
            response = _lift_tool(response, spec)
        usage = response.usage if usage is None else add_usage(usage, response.usage)
        response = replace(response, usage=usage)
        if response.finish_reason in _NOT_JUDGED:
            return response
        value, error = validate_answer(spec, response.text or "")
        if error is None:
            return replace(response, parsed=value)
        if attempt > retries:
            metadata = {**response.metadata, "error": error}
            return replace(response, finish_reason=FinishReason.ERROR, metadata=metadata)
        attempt += 1
        request = reask_request(request, error)
        plan = start(request)
