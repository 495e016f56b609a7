"""Message-list reducers for ``chat(..., history=...)``: what is sent each turn, not what is kept.

The chat loop keeps the whole thread; before every model turn it sends ``reducer.reduce(messages)``
instead. Reducers never drop a system message and never separate an assistant message that asks
for tools from the tool results answering it (providers refuse a result without its call).
``summarize`` needs a model call, so it is a plan the loop runs (``reduce_plan``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass, field
from typing import Any

from . import codec
from .data.messages import Message, Role, TextPart
from .effects import Effect
from .engine import Engine
from .errors import AllmError, ConfigurationError

__all__ = [
    "KeepLast",
    "Summarize",
    "TokenBudget",
    "estimate_tokens",
    "groups",
    "keep_last",
    "summarize",
    "token_budget",
]

_PER_MESSAGE = 4  # role and framing tokens every provider adds per message


def estimate_tokens(message: Message) -> int:
    """A provider-neutral estimate: about four characters a token, plus framing."""
    if isinstance(message.content, str):
        characters = len(message.content)
    else:
        characters = sum(len(part.text) for part in message.content if isinstance(part, TextPart))
        characters += 1000 * sum(1 for part in message.content if not isinstance(part, TextPart))
    for call in message.tool_calls:
        characters += len(call.name) + len(call.raw_arguments or str(call.arguments))
    return _PER_MESSAGE + (characters + 3) // 4


def groups(messages: Sequence[Message]) -> list[tuple[int, ...]]:
    """The non-system messages' indices in units that stay together: an assistant message with
    tool calls and the tool results that follow it, or one message."""
    found: list[tuple[int, ...]] = []
    index = 0
    while index < len(messages):
        message = messages[index]
        if message.role == Role.SYSTEM:
            index += 1
            continue
        unit = [index]
        index += 1
        if message.role == Role.ASSISTANT and message.tool_calls:
            while index < len(messages) and messages[index].role == Role.TOOL:
                unit.append(index)
                index += 1
        found.append(tuple(unit))
    return found


def _kept(messages: Sequence[Message], units: Sequence[tuple[int, ...]]) -> tuple[Message, ...]:
    keep = {i for unit in units for i in unit}
    return tuple(m for i, m in enumerate(messages) if m.role == Role.SYSTEM or i in keep)


@dataclass(frozen=True, slots=True)
class KeepLast:
    """System messages plus the last ``n`` others (a tool exchange cut in two is kept whole)."""

    n: int

    def reduce(self, messages: Sequence[Message]) -> tuple[Message, ...]:
        units = groups(messages)
        chosen: list[tuple[int, ...]] = []
        count = 0
        for unit in reversed(units):
            if count >= self.n:
                break
            chosen.append(unit)
            count += len(unit)
        return _kept(messages, chosen)


def keep_last(n: int) -> KeepLast:
    """System messages plus the last ``n`` other messages."""
    if not isinstance(n, int) or isinstance(n, bool) or n < 0:
        raise ConfigurationError(
            "invalid_option", problems=[f"keep_last needs an int >= 0, got {n!r}"]
        )
    return KeepLast(n)


@dataclass(frozen=True, slots=True)
class TokenBudget:
    """The system messages plus the longest recent run of whole units that fits ``max_tokens``."""

    max_tokens: int
    counter: Callable[[Message], int] | None = field(default=None, compare=False)

    def reduce(self, messages: Sequence[Message]) -> tuple[Message, ...]:
        count = self.counter or estimate_tokens
        used = sum(count(m) for m in messages if m.role == Role.SYSTEM)
        chosen: list[tuple[int, ...]] = []
        for unit in reversed(groups(messages)):
            cost = sum(count(messages[i]) for i in unit)
            if used + cost > self.max_tokens:
                break
            used += cost
            chosen.append(unit)
        return _kept(messages, chosen)


def token_budget(max_tokens: int, counter: Callable[[Message], int] | None = None) -> TokenBudget:
    """Keep what fits ``max_tokens`` (by ``counter``, default ``estimate_tokens``), newest first,
    never dropping a system message nor splitting a tool call from its result."""
    if not isinstance(max_tokens, int) or isinstance(max_tokens, bool) or max_tokens <= 0:
        raise ConfigurationError(
            "invalid_option", problems=[f"token_budget needs a positive int, got {max_tokens!r}"]
        )
    return TokenBudget(max_tokens, counter)


SUMMARY_PROMPT = (
    "Summarize the conversation below for the assistant who continues it: keep names, facts, "
    "decisions, open questions and tool results that still matter. Answer with the summary only."
)


@dataclass(frozen=True, slots=True)
class Summarize:
    """Over ``when_over_tokens``, older messages become one summary by ``engine``; the last
    ``keep_last`` messages (whole tool exchanges) and the system messages are sent as they are."""

    engine: Engine
    when_over_tokens: int
    keep_last: int = 4
    prompt: str = SUMMARY_PROMPT

    def reduce(self, messages: Sequence[Message]) -> tuple[Message, ...]:
        """Without a model call: the messages as they are (the loop runs ``reduce_plan``)."""
        return tuple(messages)

    def _split(self, messages: Sequence[Message]) -> tuple[list[int], tuple[Message, ...]] | None:
        if sum(estimate_tokens(m) for m in messages) <= self.when_over_tokens:
            return None
        recent = KeepLast(self.keep_last).reduce(messages)
        recent_ids = {id(m) for m in recent}
        older = [
            i for i, m in enumerate(messages) if m.role != Role.SYSTEM and id(m) not in recent_ids
        ]
        return (older, recent) if older else None

    def reduce_plan(
        self, messages: Sequence[Message], request_id: str, memo: dict[str, str]
    ) -> Generator[Effect, Any, tuple[Message, ...]]:
        """The messages with the older part summarized (one model call, remembered in ``memo``
        for the same older part); a failed summary call leaves the messages as they are."""
        from .collector import StreamCollector
        from .data.response import FinishReason
        from .execution.attempts import prepare
        from .execution.turns import fold_plan

        split = self._split(messages)
        if split is None:
            return tuple(messages)
        older, recent = split
        transcript = "\n".join(
            f"{Role(messages[i].role).value}: {_text(messages[i])}" for i in older
        )
        key = hashlib.sha256(transcript.encode("utf-8")).hexdigest()
        summary = memo.get(key)
        if summary is None:
            request = (Message(Role.SYSTEM, self.prompt), Message(Role.USER, transcript))
            try:
                prepared = prepare(self.engine, list(request), {}, f"{request_id}.summary")
            except AllmError:
                return tuple(messages)  # no summary possible now: send everything
            collector = StreamCollector(request_id=request_id)
            yield from fold_plan(prepared.plan, collector.apply)
            response = collector.to_response()
            if response.finish_reason is FinishReason.ERROR or not response.output_text:
                return tuple(messages)
            summary = memo[key] = response.output_text
        systems = tuple(m for m in recent if m.role == Role.SYSTEM)
        note = Message(Role.USER, f"Summary of the earlier conversation:\n{summary}")
        rest = tuple(m for m in recent if m.role != Role.SYSTEM)
        return (*systems, note, *rest)


def _text(message: Message) -> str:
    if isinstance(message.content, str):
        text = message.content
    else:
        text = " ".join(part.text for part in message.content if isinstance(part, TextPart))
    calls = ", ".join(
        f"{call.name}({call.raw_arguments or call.arguments})" for call in message.tool_calls
    )
    return f"{text} [calls: {calls}]" if calls else text


def summarize(engine: Engine, when_over_tokens: int, keep_last: int = 4) -> Summarize:
    """Summarize older messages with ``engine`` once the thread is over ``when_over_tokens``."""
    problems = []
    if not isinstance(engine, Engine):
        problems.append(f"summarize needs an Engine, got {engine!r}")
    if not isinstance(when_over_tokens, int) or when_over_tokens <= 0:
        problems.append(f"when_over_tokens must be a positive int, got {when_over_tokens!r}")
    if not isinstance(keep_last, int) or keep_last < 0:
        problems.append(f"keep_last must be an int >= 0, got {keep_last!r}")
    if problems:
        raise ConfigurationError("invalid_option", problems=problems)
    return Summarize(engine, when_over_tokens, keep_last)


for _cls in (KeepLast, TokenBudget, Summarize):
    codec.register(_cls)
