"""The fold from events to results: the single reducer behind generate, step, chat and sessions."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, cast

from ._text import TextBuffer
from .data.messages import Message, Role
from .data.response import FinishReason, Response, TokenLogprob, Usage, add_usage
from .data.results import ChatResult, HaltReason, StepResult, Thread
from .data.server_tools import Citation, ServerToolCall
from .data.tools import ToolCall
from .events import (
    AskUserRequested,
    ChatCompleted,
    CitationAdded,
    ErrorEvent,
    Event,
    LogprobsDelta,
    MessageCompleted,
    MessageStarted,
    OutputCompleted,
    OutputRetry,
    RawChunk,
    ReasoningCompleted,
    ReasoningDelta,
    ServerToolCallCompleted,
    StepCompleted,
    TextCompleted,
    TextDelta,
    ToolCallCompleted,
    ToolCallDelta,
    ToolCallStarted,
    ToolHalt,
    ToolResultEncoded,
)

__all__ = ["AWAITING_USER_CONTENT", "StreamCollector"]

AWAITING_USER_CONTENT = "<awaiting user response>"
_DONE_REASONS = frozenset(
    {FinishReason.STOP, FinishReason.LENGTH, FinishReason.CONTENT_FILTER, FinishReason.ERROR}
)


class StreamCollector:
    """Folds events into a ``Response``, a ``StepResult`` or a ``ChatResult``.

    ``apply`` never raises on an event of the union; unknown values are ignored. Text deltas
    append and ``TextCompleted`` replaces; a usage chunk replaces the usage; tool calls keep the
    order in which their ids first appeared; an ``ErrorEvent`` sets ``finish_reason="error"`` and
    folding goes on, so nothing received before or after it is lost.
    """

    __slots__ = (
        "_argument_parts",
        "_calls",
        "_citations",
        "_dispatch",
        "_logprobs",
        "_reasoning_parts",
        "_text_parts",
        "chat_result",
        "done",
        "error",
        "finish_reason",
        "halt",
        "last_message",
        "metadata",
        "model",
        "parsed",
        "raw_finish_reason",
        "reasoning_blocks",
        "reasoning_done",
        "request_id",
        "response_id",
        "retried_usage",
        "saw_reasoning",
        "server_tool_calls",
        "steps",
        "thread",
        "tool_results",
        "usage",
    )

    def __init__(self, thread: Thread | None = None, *, request_id: str | None = None) -> None:
        self.thread = thread
        self.request_id = request_id
        self.steps: list[StepResult] = []
        self.chat_result: ChatResult | None = None
        self.done = False
        self.error: Any = None
        self.metadata: dict[str, Any] = {}
        self.usage = Usage()
        self.response_id: str | None = None
        self.model: str | None = None
        self._reset_step()
        self._dispatch: dict[type[Any], Callable[[Any], None]] = {
            MessageStarted: self._message_started,
            TextDelta: self._text_delta,
            TextCompleted: self._text_completed,
            ReasoningDelta: self._reasoning_delta,
            ReasoningCompleted: self._reasoning_completed,
            LogprobsDelta: self._logprobs_delta,
            ToolCallStarted: self._tool_call_started,
            ToolCallDelta: self._tool_call_delta,
            ToolCallCompleted: self._tool_call_completed,
            ServerToolCallCompleted: self._server_tool_call,
            CitationAdded: self._citation,
            MessageCompleted: self._message_completed,
            RawChunk: self._raw_chunk,
            ErrorEvent: self._error,
            ToolResultEncoded: self._tool_result_encoded,
            ToolHalt: self._tool_halt,
            AskUserRequested: self._ask_user,
            StepCompleted: self._step_completed,
            ChatCompleted: self._chat_completed,
            OutputCompleted: self._output_completed,
            OutputRetry: self._output_retry,
        }

    def _reset_step(self) -> None:
        # Fragments go to text buffers: `str +=` on an attribute copies the whole text, and a
        # list of deltas costs a string object per chunk.
        self._text_parts = TextBuffer()
        self.reasoning_done: list[str] = []
        self._reasoning_parts = TextBuffer()
        self.reasoning_blocks: list[dict[str, Any]] = []
        self.saw_reasoning = False
        # None until a LogprobsDelta comes: a call that did not ask keeps no per-token list.
        self._logprobs: list[TokenLogprob] | None = None
        # Calls by id in first-seen order, as the event that last told of each (a ``ToolCall``
        # is built when they are read); argument fragments are kept apart until then.
        self._calls: dict[str, ToolCall | ToolCallStarted | ToolCallCompleted] = {}
        self._argument_parts: dict[str, TextBuffer] = {}
        self.server_tool_calls: list[ServerToolCall] = []
        self._citations: list[Citation] = []
        self.tool_results: list[Message] = []
        self.halt: tuple[Any, ...] | None = None
        self.finish_reason: FinishReason | None = None
        self.raw_finish_reason: str | None = None
        self.last_message: Message | None = None
        self.parsed: Any = None
        self.retried_usage: Usage | None = None  # earlier attempts of a typed output

    # -- folding ----------------------------------------------------------------------------------

    def apply(self, event: Event) -> StreamCollector:
        """Fold one event; returns the collector, so ``reduce`` works too."""
        handler = self._dispatch.get(type(event))
        if handler is not None:
            handler(event)
        return self

    def apply_all(self, events: Iterable[Event]) -> StreamCollector:
        """Fold every event of ``events``."""
        dispatch = self._dispatch
        for event in events:
            handler = dispatch.get(type(event))
            if handler is not None:
                handler(event)
        return self

    def _message_started(self, event: MessageStarted) -> None:
        known = event.message.metadata
        if known:
            self._lift(dict(known))

    def _lift(self, metadata: dict[str, Any]) -> dict[str, Any]:
        # Provider facts that have their own Response fields; the rest stays metadata.
        if metadata.get("response_id") is not None:
            self.response_id = metadata["response_id"]
        if metadata.get("model") is not None:
            self.model = metadata["model"]
        if metadata.get("raw_finish_reason") is not None:
            self.raw_finish_reason = metadata["raw_finish_reason"]
        if metadata.get("provider_request_id") is not None:
            self.metadata["provider_request_id"] = metadata["provider_request_id"]
        for key in ("response_id", "model", "raw_finish_reason", "provider_request_id"):
            metadata.pop(key, None)
        return metadata

    def _text_delta(self, event: TextDelta) -> None:
        self._text_parts.append(event.delta)

    def _text_completed(self, event: TextCompleted) -> None:
        self._text_parts = TextBuffer(event.text)

    def _reasoning_delta(self, event: ReasoningDelta) -> None:
        self.saw_reasoning = True
        self._reasoning_parts.append(event.delta)

    def _reasoning_completed(self, event: ReasoningCompleted) -> None:
        # One block is complete: its text is authoritative for the deltas since the last block.
        self.saw_reasoning = True
        self.reasoning_done.append(event.text)
        self._reasoning_parts = TextBuffer()
        self.reasoning_blocks.append(
            {"text": event.text, "signature": event.signature, "id": event.id}
        )

    def _logprobs_delta(self, event: LogprobsDelta) -> None:
        if self._logprobs is None:
            self._logprobs = []
        self._logprobs.extend(event.items)

    def _tool_call_started(self, event: ToolCallStarted) -> None:
        if event.id not in self._calls:
            self._calls[event.id] = event

    def _tool_call_delta(self, event: ToolCallDelta) -> None:
        if event.id not in self._calls:
            self._calls[event.id] = ToolCall(event.id, "", {}, "")
        parts = self._argument_parts.get(event.id)
        if parts is None:
            parts = self._argument_parts[event.id] = TextBuffer()
        parts.append(event.arguments_delta)

    def _tool_call_completed(self, event: ToolCallCompleted) -> None:
        # A dict keeps first-insertion order, so overwriting never moves the call.
        self._calls[event.id] = event
        if self._argument_parts:
            self._argument_parts.pop(event.id, None)

    def _server_tool_call(self, event: ServerToolCallCompleted) -> None:
        self.server_tool_calls.append(event.call)

    def _citation(self, event: CitationAdded) -> None:
        self._citations.append(event.citation)

    def _message_completed(self, event: MessageCompleted) -> None:
        self.last_message = event.message
        if event.finish_reason is not None and self.finish_reason is not FinishReason.ERROR:
            self.finish_reason = FinishReason(event.finish_reason)
        if event.metadata:
            extra = self._lift(dict(event.metadata))
            usage = extra.pop("usage", None)
            if isinstance(usage, Usage):
                self.usage = usage
            elif isinstance(usage, dict):
                self.usage = Usage(**usage)
            self.metadata.update(extra)

    def _raw_chunk(self, event: RawChunk) -> None:
        data = event.data
        if type(data) is tuple and len(data) == 2 and data[0] == "usage":
            values = data[1]
            self.usage = values if isinstance(values, Usage) else Usage(**values)

    def _error(self, event: ErrorEvent) -> None:
        self.error = event.error
        # A stream that failed after its id and model came names them on its error.
        known = getattr(event.error, "metadata", None)
        if isinstance(known, dict):
            if self.response_id is None and known.get("response_id") is not None:
                self.response_id = known["response_id"]
            if self.model is None and known.get("model") is not None:
                self.model = known["model"]
        self.finish_reason = FinishReason.ERROR

    def _output_completed(self, event: OutputCompleted) -> None:
        self.parsed = event.value

    def _output_retry(self, event: OutputRetry) -> None:
        # A re-ask: only the last attempt's answer is kept; usage adds up over attempts.
        self.retried_usage = (
            self.usage if self.retried_usage is None else add_usage(self.retried_usage, self.usage)
        )
        self.usage = Usage()
        self._text_parts = TextBuffer()
        self._logprobs = None
        self._calls = {}
        self._argument_parts = {}
        self.server_tool_calls = []
        self._citations = []
        self.finish_reason = None
        self.raw_finish_reason = None
        self.last_message = None

    @property
    def total_usage(self) -> Usage:
        """The usage of every attempt so far."""
        retried = self.retried_usage
        return self.usage if retried is None else add_usage(retried, self.usage)

    def _tool_result_encoded(self, event: ToolResultEncoded) -> None:
        self.tool_results.append(Message(Role.TOOL, event.content, tool_call_id=event.id))

    def _tool_halt(self, event: ToolHalt) -> None:
        # First halt wins, but every tool keeps its message: siblings are never dropped.
        if self.halt is None:
            self.halt = ("halt", event.reason, event.tool_call_id, event.result)
        content = event.content if event.content is not None else repr(event.result)
        self.tool_results.append(Message(Role.TOOL, content, tool_call_id=event.tool_call_id))

    def _ask_user(self, event: AskUserRequested) -> None:
        if self.halt is None:
            self.halt = ("ask_user", event.tool_call_id, event.question, dict(event.opts))
        self.tool_results.append(
            Message(Role.TOOL, AWAITING_USER_CONTENT, tool_call_id=event.tool_call_id)
        )

    def _step_completed(self, event: StepCompleted) -> None:
        metadata = self._halt_metadata()
        response = event.response
        if event.mode == "manual" and response.finish_reason is FinishReason.TOOL_CALLS:
            metadata["mode"] = "manual"
        if event.manual_tool_calls:
            metadata["manual_tool_calls"] = tuple(event.manual_tool_calls)
        finish = self.finish_reason if self.finish_reason is not None else response.finish_reason
        done = self.halt is not None or finish in _DONE_REASONS
        self.steps.append(
            StepResult(event.thread, response, tuple(self.tool_results), done, metadata)
        )
        self.thread = event.thread
        self._reset_step()

    def _chat_completed(self, event: ChatCompleted) -> None:
        self.chat_result = event.result
        self.done = True

    def _halt_metadata(self) -> dict[str, Any]:
        halt = self.halt
        if halt is None:
            return {}
        if halt[0] == "ask_user":
            _, call_id, question, opts = halt
            return {
                "halted_reason": HaltReason.ASK_USER.value,
                "pending_tool_call_id": call_id,
                "pending_question": question,
                "ask_user_opts": opts,
            }
        _, reason, call_id, result = halt
        if reason == HaltReason.TOOL_ERROR.value:
            metadata: dict[str, Any] = {"halted_reason": reason, "halt_tool_call_id": call_id}
            if isinstance(result, dict) and "on_tool_error_exception" in result:
                metadata["on_tool_error_exception"] = result["on_tool_error_exception"]
            return metadata
        return {"halted_reason": reason, "halt_tool_call_id": call_id, "halt_result": result}

    # -- projections ------------------------------------------------------------------------------

    @property
    def tool_calls(self) -> dict[str, ToolCall]:
        """The tool calls folded so far, by id, in first-seen order."""
        calls = self._calls
        # The completed message's own calls, when they are the events' values: kept, not rebuilt.
        message = self.last_message
        sent = {c.id: c for c in message.tool_calls} if message is not None else {}
        for call_id, call in calls.items():
            if type(call) is ToolCallCompleted:
                same = sent.get(call_id)
                if (
                    same is not None
                    and same.arguments is call.arguments
                    and same.metadata is call.metadata
                    and same.name == call.name
                    and same.raw_arguments == call.raw_arguments
                ):
                    calls[call_id] = same
                else:
                    calls[call_id] = call.to_tool_call()
            elif type(call) is ToolCallStarted:
                calls[call_id] = ToolCall(call.id, call.name, {}, "")
        for call_id, parts in self._argument_parts.items():
            known = cast(ToolCall, calls[call_id])  # made a ToolCall just above
            raw = (known.raw_arguments or "") + parts.text()
            calls[call_id] = ToolCall(known.id, known.name, {}, raw, known.metadata)
        self._argument_parts.clear()
        return calls  # type: ignore[return-value]  # every value is a ToolCall now

    @property
    def current_text(self) -> str:
        """The answer text folded so far."""
        return self._text_parts.text()

    @property
    def reasoning_text(self) -> str:
        """The reasoning text of the block in progress."""
        return self._reasoning_parts.text()

    @property
    def reasoning(self) -> str | None:
        """The reasoning text folded so far, or None when no reasoning event came."""
        if not self.saw_reasoning:
            return None
        return "".join(self.reasoning_done) + self.reasoning_text

    def to_response(self) -> Response:
        """The response folded so far. A folded error is data here, never raised."""
        metadata = dict(self.metadata)
        if self.reasoning_blocks:
            metadata["reasoning_blocks"] = tuple(self.reasoning_blocks)
        if self.error is not None:
            metadata["error"] = self.error
        return Response(
            id=self.response_id,
            request_id=self.request_id,
            model=self.model,
            message=self.last_message,
            output_text=self.current_text,
            tool_calls=tuple(self.tool_calls.values()),
            finish_reason=self.finish_reason,
            raw_finish_reason=self.raw_finish_reason,
            usage=self.total_usage,
            metadata=metadata,
            reasoning=self.reasoning,
            parsed=self.parsed,
            logprobs=None if self._logprobs is None else tuple(self._logprobs),
            citations=tuple(self._citations),
            server_tool_calls=tuple(self.server_tool_calls),
        )

    def to_step_result(self) -> StepResult:
        """The step folded so far (needs a thread)."""
        if self.thread is None:
            raise ValueError("to_step_result needs a collector created with a thread")
        metadata = {**self.metadata, **self._halt_metadata()}
        done = self.halt is not None or self.finish_reason in _DONE_REASONS
        return StepResult(self.thread, self.to_response(), tuple(self.tool_results), done, metadata)

    def to_chat_result(self) -> ChatResult:
        """The chat result: the one ``ChatCompleted`` carried, or a fallback for a stream left early.

        The fallback's ``halted_reason`` is ``"error"`` if an error was folded, else ``"cancelled"``.
        """
        if self.chat_result is not None:
            return self.chat_result
        if self.thread is None:
            raise ValueError("to_chat_result needs a collector created with a thread")
        reason = HaltReason.ERROR if self.error is not None else HaltReason.CANCELLED
        final = self.steps[-1].response if self.steps else self.to_response()
        metadata = dict(self.metadata)
        if self.error is not None:
            metadata["error"] = self.error
        return ChatResult(
            thread=self.thread,
            final_response=final,
            steps=tuple(self.steps),
            halted_reason=reason.value,
            metadata=metadata,
        )
