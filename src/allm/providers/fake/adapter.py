"""The Fake adapter: picks a script per call and replays it, streaming or whole."""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from dataclasses import replace
from typing import Any, ClassVar

from ...adapters import Call
from ...adapters.plan import stamp_completed
from ...data.messages import Message, Role
from ...data.reasoning import Reasoning
from ...data.request import Request
from ...data.response import Response, Usage
from ...effects import Effect
from ...errors import AdapterError, ConfigurationError
from ...events import (
    ErrorEvent,
    Event,
    MessageStarted,
)
from ...retry import NO_RETRY, Fail, Ok, Outcome, Retry, retrying
from .entries import _USAGE_FIELDS, Entry, PreflightError
from .replay import _build_response, _error_fields, _stream_entries
from .script import CursorBook, ScriptCursor, _is_list_of_lists, _usage_fields, parse_script, record


def reasoning_sent(request: Request) -> dict[str, Any]:
    """What a call's ``reasoning=`` asked, as a wire records the body keys it set: the
    ``Reasoning`` fields that are set, under ``"reasoning"`` (empty when none was given)."""
    reasoning = request.reasoning
    if not isinstance(reasoning, Reasoning):
        return {}
    fields = (
        ("effort", reasoning.effort),
        ("budget_tokens", reasoning.budget_tokens),
        ("summary", reasoning.summary),
    )
    return {"reasoning": {name: value for name, value in fields if value is not None}}


def _no_script(call: Call, message: str) -> AdapterError:
    return AdapterError(
        "no_scripted_response", message, provider="fake", request_id=call.request_id
    )


# ------------------------------------------------------------------------------------ adapter


class Fake:
    """The scripted test adapter. One instance keeps one cursor per engine (by engine id)."""

    name = "fake"
    output_modes = ("native", "tool", "prompted")
    # A stand-in for every provider: an engine on the Fake keeps every call on it, whatever
    # provider a model reference names, so tests stay offline; it sends nothing anywhere.
    stand_in: ClassVar[bool] = True

    def __init__(self) -> None:
        self._cursors = CursorBook("script_cursor")
        # The last ``scripts`` list found to be a list of lists, and its length: a batch of
        # 100,000 calls on one list checks it once, not once per call.
        self._checked: tuple[Any, int] | None = None

    def __repr__(self) -> str:
        return "Fake()"

    def reset(self) -> None:
        """Forget every cursor."""
        self._cursors.clear()

    def cursor(self, call: Call) -> ScriptCursor:
        """The cursor this call advances."""
        return self._cursors.for_call(call)

    def _scripts(self, call: Call, streaming: bool) -> list[Any] | None:
        opts = call.adapter_opts
        if "script" in opts and "scripts" in opts:
            raise ConfigurationError(
                "invalid_script", problems=["set either 'script' or 'scripts', not both"]
            )
        if streaming and opts.get("stream_script") is not None:
            value = opts["stream_script"]
            return list(value) if _is_list_of_lists(value) else [value]
        if opts.get("scripts") is not None:
            scripts = opts["scripts"]
            checked = self._checked
            if checked is not None and checked[0] is scripts and checked[1] == len(scripts):
                return scripts  # type: ignore[no-any-return]
            if not isinstance(scripts, Sequence) or not all(
                isinstance(s, Sequence) for s in scripts
            ):
                raise ConfigurationError(
                    "invalid_script", problems=["scripts must be a list of lists"]
                )
            self._checked = (scripts, len(scripts))
            return scripts  # type: ignore[return-value]
        if opts.get("script") is not None:
            return [opts["script"]]
        return None

    def _next_script(self, call: Call, streaming: bool) -> tuple[Entry, ...] | None:
        """The script for this call, or None when ``retry_until_call`` makes this call fail."""
        scripts = self._scripts(call, streaming)
        fail_until = call.opt("retry_until_call")
        if fail_until is not None and (not isinstance(fail_until, int) or fail_until < 1):
            raise ConfigurationError(
                "invalid_option", problems=["retry_until_call must be a positive int"]
            )
        cursor = self.cursor(call)
        with cursor._lock:
            if fail_until is not None and cursor.attempts < fail_until - 1:
                cursor.attempts += 1
                return None
            if scripts is None:
                raise _no_script(
                    call, "no scripted response: the engine's adapter_opts has no script"
                )
            if cursor.position >= len(scripts):
                raise _no_script(call, f"no scripted response: all {len(scripts)} script(s) used")
            index = cursor.position
            entries = parse_script(
                scripts[index], f"scripts[{index}]" if len(scripts) > 1 else "script"
            )
            cursor.position += 1
        return entries

    def _usage_override(self, call: Call) -> dict[str, Any] | None:
        value = call.opt("usage")
        if value is None:
            return None
        if isinstance(value, Usage):
            return _usage_fields(value)
        if isinstance(value, Mapping):
            unknown = set(value) - _USAGE_FIELDS
            if unknown:
                raise ConfigurationError(
                    "invalid_option", problems=[f"usage has unknown field(s) {sorted(unknown)}"]
                )
            return dict(value)
        raise ConfigurationError("invalid_option", problems=["usage must be a Usage or a mapping"])

    def _record(self, request: Request, call: Call) -> None:
        record(call, "record", request)

    # -- streaming ------------------------------------------------------------------------------

    def stream(self, request: Request, call: Call) -> Iterator[Event | Effect]:
        """Pick this call's script now (failing now if there is none); replay it lazily."""
        usage_override = self._usage_override(call)
        entries = self._next_script(call, streaming=True)
        if entries and isinstance(entries[0], PreflightError):
            first = entries[0]
            raise AdapterError(first.reason, provider="fake", **_error_fields(first.fields))
        observer = call.opt("cleanup_observer")
        if observer is not None and not callable(observer):
            raise ConfigurationError(
                "invalid_option", problems=["cleanup_observer must be callable"]
            )
        plan = self._replay(request, call, entries, usage_override, observer)
        sent = reasoning_sent(request)
        return stamp_completed(plan, {"reasoning_sent": sent}) if sent else plan

    def _replay(
        self,
        request: Request,
        call: Call,
        entries: tuple[Entry, ...] | None,
        usage_override: dict[str, Any] | None,
        observer: Callable[[], Any] | None,
    ) -> Generator[Event | Effect, Any, None]:
        try:
            self._record(request, call)
            if entries is None:
                yield MessageStarted(Message(Role.ASSISTANT, ""))
                yield ErrorEvent(
                    AdapterError("timeout", "scripted transient timeout", provider="fake")
                )
                return
            yield from _stream_entries(entries, usage_override)
        finally:
            if observer is not None:
                observer()

    # -- non-streaming --------------------------------------------------------------------------

    def generate(self, request: Request, call: Call) -> Generator[Effect, Any, Response]:
        """Replay the script as one whole response, under the call's retry policy."""
        usage_override = self._usage_override(call)
        scripts = self._scripts(call, streaming=False)  # fails now on a script/scripts clash
        fail_until = call.opt("retry_until_call")
        cursor = self.cursor(call)
        failing = isinstance(fail_until, int) and cursor.attempts < fail_until - 1
        if not failing and (scripts is None or cursor.position >= len(scripts)):
            # Out of script is a pre-flight failure, exactly as on the streaming path.
            raise _no_script(call, "no scripted response: the script is used up or missing")
        return self._generate(request, call, usage_override)

    def _generate(
        self, request: Request, call: Call, usage_override: dict[str, Any] | None
    ) -> Generator[Effect, Any, Response]:
        self._record(request, call)

        def attempt(number: int) -> Generator[Effect, Any, Outcome[Response]]:
            try:
                entries = self._next_script(call, streaming=False)
            except AdapterError as exc:
                return Fail(exc)
            if entries is None:
                return Retry(
                    AdapterError("timeout", "scripted transient timeout", provider="fake"), 0
                )
            return (yield from _build_response(entries, call, usage_override))

        policy = call.retry or NO_RETRY
        meta = {"provider": "fake", "request_id": call.request_id}
        outcome = yield from retrying(policy, meta, attempt)
        if not isinstance(outcome, Ok):
            raise outcome.error
        sent = reasoning_sent(request)
        if not sent:
            return outcome.value
        return replace(outcome.value, metadata={**outcome.value.metadata, "reasoning_sent": sent})
