"""What every command that calls a model shares: the model, the checked ``-o`` options,
attachments, the engine (the Fake when there is no key and no model), the common flags, the log
entry and the printing of the answer."""

from __future__ import annotations

import difflib
import json
import mimetypes
import os
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TypeVar

import click

import allm

from . import files, logdb

__all__ = [
    "DEFAULT_MODELS",
    "FAKE_MODEL",
    "OPTION_TYPES",
    "CallFailed",
    "Target",
    "UserError",
    "attachment_parts",
    "echo_delta",
    "end_answer",
    "engine_for",
    "fail_if_error",
    "load_stored_keys",
    "logs_enabled",
    "model_options",
    "parse_options",
    "record_call",
    "resolve_target",
    "setup_call",
    "usage_line",
    "usage_summary",
    "user_errors",
]

F = TypeVar("F", bound=Callable[..., Any])
FAKE_MODEL = "fake:echo"
# The model used when no -m is given and a provider's key is found, in this order.
DEFAULT_MODELS = (
    ("openai", "gpt-4o-mini"),
    ("anthropic", "claude-haiku-4-5"),
    ("gemini", "gemini-2.5-flash"),
)


class UserError(click.ClickException):
    """Something the user can fix (an option, a missing key, a file): exit 2, one line."""

    exit_code = 2


class CallFailed(click.ClickException):
    """The model call failed after it was sent (the provider, the network): exit 1."""

    exit_code = 1


# -o names the command line accepts, with the type of their value. Call keywords of the library
# (W1's neutral fields and the HTTP adapters' per-call settings), minus those that take Python
# objects (tools, callbacks, clients).
def _number(text: str) -> float:
    return float(text)


def _count(text: str) -> int:
    value = int(text)
    if value < 0:
        raise ValueError(text)
    return value


def _flag(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("true", "yes", "1", "on"):
        return True
    if lowered in ("false", "no", "0", "off"):
        return False
    raise ValueError(text)


def _words(text: str) -> tuple[str, ...]:
    if text.startswith("["):
        value = json.loads(text)
        if isinstance(value, list) and all(isinstance(item, str) for item in value):
            return tuple(value)
        raise ValueError(text)
    return (text,)


def _text(text: str) -> str:
    return text


def _count_or_flag(text: str) -> bool | int:
    try:
        return _flag(text)
    except ValueError:
        return _count(text)


OPTION_TYPES: dict[str, tuple[Callable[[str], Any], str]] = {
    "temperature": (_number, "a number"),
    "max_tokens": (_count, "a whole number >= 0"),
    "top_p": (_number, "a number"),
    "seed": (int, "a whole number"),
    "stop": (_words, "a string or a JSON list of strings, e.g. '[\"END\"]'"),
    "reasoning": (_text, "none, minimal, low, medium, high or xhigh"),
    "reasoning_effort": (_text, "an effort name"),
    "reasoning_summary": (_text, "a summary setting"),
    "verbosity": (_text, "low, medium or high"),
    "parallel_tool_calls": (_flag, "true or false"),
    "logprobs": (_count_or_flag, "true, false or a whole number"),
    "tool_choice": (_text, "auto, none or required"),
    "base_url": (_text, "a URL"),
    "endpoint": (_text, "chat_completions or responses"),
    "timeout": (_number, "seconds"),
    "stream_timeout": (_number, "seconds"),
}


def parse_options(pairs: Sequence[str]) -> dict[str, Any]:
    """``-o key=value`` pairs as call keywords; every bad pair is reported in one error."""
    options: dict[str, Any] = {}
    problems: list[str] = []
    for pair in pairs:
        name, sep, raw = pair.partition("=")
        name = name.strip()
        if not sep or not name:
            problems.append(f"-o {pair!r}: expected key=value")
            continue
        known = OPTION_TYPES.get(name)
        if known is None:
            close = [known for known in OPTION_TYPES if known.startswith(name)]
            close = close or difflib.get_close_matches(name, OPTION_TYPES, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            problems.append(f"unknown option {name!r} for -o{hint}")
            continue
        parse, expected = known
        try:
            options[name] = parse(raw)
        except ValueError:
            problems.append(f"-o {name}: expected {expected}, got {raw!r}")
    if problems:
        raise UserError("; ".join(problems))
    return options


def load_stored_keys() -> None:
    """Make the key file's keys the ones calls use (before the environment; see the docs)."""
    try:
        stored = files.read_keys()
    except files.UserFileError as exc:
        raise UserError(str(exc)) from None
    if stored:
        allm.configure(keys={**allm.config.get_settings().keys, **stored})


@dataclass(frozen=True, slots=True)
class Target:
    """The model a command talks to, as ``provider:id``; ``note`` says why it was chosen."""

    provider: str
    model_id: str
    note: str | None = None

    @property
    def name(self) -> str:
        return f"{self.provider}:{self.model_id}"

    @property
    def fake(self) -> bool:
        return self.provider == "fake"


def _known_providers() -> frozenset[str]:
    from ..adapters import registered_names

    return registered_names()


def parse_model(text: str) -> Target:
    """``provider:id``, ``id@provider`` or a catalog id such as ``gpt-4o``."""
    text = text.strip()
    if text == "fake":
        return Target("fake", "echo")
    providers = _known_providers()
    provider, sep, model_id = text.partition(":")
    if sep and provider in providers and model_id:
        return Target(provider, model_id)
    model_id, sep, provider = text.rpartition("@")
    if sep and provider in providers and model_id:
        return Target(provider, model_id)
    ref = allm.catalog.BundledCatalog().lookup(None, text)
    if ref is not None:
        return Target(ref.provider, ref.id)
    raise UserError(
        f"unknown model {text!r}: give it as provider:id (providers: "
        f"{', '.join(sorted(providers))}); `allm models` lists the catalog"
    )


def resolve_target(model: str | None, default: str | None) -> Target:
    """``-m`` first, then ``$ALLM_MODEL`` (``default``), then the first provider with a key,
    then the offline Fake (saying so)."""
    if model:
        return parse_model(model)
    if default:
        return parse_model(default)
    for provider, model_id in DEFAULT_MODELS:
        if allm.keys.get(provider) is not None:
            return Target(provider, model_id, f"using {provider}:{model_id} (a key was found)")
    return Target(
        "fake",
        "echo",
        "no model given and no API key found: answering with the offline Fake provider "
        "(set a key with `allm keys set openai`, or pick a model with -m)",
    )


def fake_reply(prompt: str, turn: int) -> str:
    """What the Fake says: the prompt back, so a user sees the command line work offline."""
    return f"Fake reply {turn}: {prompt}"


def engine_for(target: Target, prompt: str = "", turn: int = 1) -> allm.Engine:
    """The engine of one call; the Fake gets a script that streams ``fake_reply`` word by word."""
    if not target.fake:
        return allm.Engine(model=target.name)
    from ..providers.fake import finish, text, usage

    words = fake_reply(prompt, turn).split(" ")
    script: list[Any] = [text(word if i == 0 else " " + word) for i, word in enumerate(words)]
    prompt_words = len(prompt.split())
    script += [
        usage(
            input_tokens=prompt_words,
            output_tokens=len(words),
            total_tokens=prompt_words + len(words),
        ),
        finish("stop"),
    ]
    return allm.Engine(adapter="fake", model=target.model_id, adapter_opts={"script": script})


def attachment_parts(paths: Iterable[str]) -> list[Any]:
    """Content parts for ``-a`` files: images as ``ImagePart``; documents (PDF, text) as
    document parts when the library has them, text files as text otherwise."""
    from .. import data

    document_part = getattr(data, "DocumentPart", None)
    parts: list[Any] = []
    problems: list[str] = []
    for name in paths:
        path = Path(name)
        if not path.is_file():
            problems.append(f"cannot attach {name}: no such file")
            continue
        mime = mimetypes.guess_type(path.name)[0] or ""
        try:
            if mime.startswith("image/"):
                parts.append(allm.ImagePart.from_file(str(path)))
            elif document_part is not None and mime == "application/pdf":
                parts.append(document_part.from_file(str(path)))
            else:
                parts.append(_text_attachment(path, document_part))
        except (allm.AllmError, UnicodeDecodeError, OSError) as exc:
            reason = (
                "not an image, a PDF or UTF-8 text" if isinstance(exc, UnicodeDecodeError) else exc
            )
            problems.append(f"cannot attach {name}: {reason}")
    if problems:
        raise UserError("; ".join(problems))
    return parts


def _text_attachment(path: Path, document_part: Any) -> Any:
    content = path.read_text(encoding="utf-8")
    if document_part is not None:
        return document_part.from_text(content, name=path.name)
    return allm.TextPart(f"--- {path.name} ---\n{content}")


def echo_delta(event: Any) -> None:
    """Print a text delta as it arrives (the ``on_event`` of a streaming call)."""
    if isinstance(event, allm.events.TextDelta):
        sys.stdout.write(event.delta)
        sys.stdout.flush()


def usage_summary(usage: allm.Usage) -> dict[str, Any]:
    """Token counts and cost (``None`` when unknown), for ``--json``."""
    return {
        "input_tokens": usage.input_tokens,
        "output_tokens": usage.output_tokens,
        "cached_input_tokens": usage.cached_input_tokens,
        "reasoning_tokens": usage.reasoning_tokens,
        "total_tokens": usage.total_tokens,
        "input_cost": usage.input_cost,
        "output_cost": usage.output_cost,
        "total_cost": usage.total_cost,
    }


def usage_line(usage: allm.Usage) -> str:
    """``Token usage: 12 input, 3 output, 15 total; cost $0.000003`` (what is known)."""
    counts: list[str] = []
    for label, value in (
        ("input", usage.input_tokens),
        ("cached", usage.cached_input_tokens),
        ("output", usage.output_tokens),
        ("reasoning", usage.reasoning_tokens),
        ("total", usage.total_tokens),
    ):
        if value is not None:
            counts.append(f"{value:,} {label}")
    line = "Token usage: " + (", ".join(counts) if counts else "not reported")
    if usage.total_cost is not None:
        line += f"; cost ${usage.total_cost:.6f}"
    else:
        line += "; cost unknown (the model is not in the catalog)"
    return line


def error_text(error: Any) -> str:
    """One line for a failure, secrets never included (the library's messages hold none)."""
    if isinstance(error, allm.EngineError) and error.reason == "missing_key":
        provider = error.provider or "the provider"
        names = " or ".join(allm.keys.env_vars(provider)) if error.provider else "its variable"
        return f"no API key for {provider}: run `allm keys set {provider}` or set {names}"
    if isinstance(error, allm.AllmError):
        return f"{error.reason}: {error.message}"
    return str(error)


def options_for_log(options: Mapping[str, Any]) -> dict[str, Any]:
    """The ``-o`` options as JSON values."""
    return {
        name: list(value) if isinstance(value, tuple) else value for name, value in options.items()
    }


def model_options(command: F) -> F:
    """The options every command that calls a model takes."""
    for decorator in reversed(
        [
            click.option(
                "-m", "--model", help="provider:id, e.g. openai:gpt-4o-mini (or $ALLM_MODEL)."
            ),
            click.option("-s", "--system", help="A system prompt."),
            click.option(
                "-o",
                "--option",
                "options",
                multiple=True,
                metavar="KEY=VALUE",
                help="A call option, e.g. -o temperature=0.2 (unknown names are refused).",
            ),
            click.option("--no-stream", is_flag=True, help="Print the answer when it is complete."),
            click.option("-u", "--usage", is_flag=True, help="Show token counts and cost."),
        ]
    ):
        command = decorator(command)
    return command


@contextmanager
def user_errors() -> Iterator[None]:
    """A failure before anything was sent (a bad option, a missing key, an unreadable file) is
    the user's to fix: one line, exit 2."""
    try:
        yield
    except allm.AllmError as exc:
        raise UserError(error_text(exc)) from None
    except files.UserFileError as exc:
        raise UserError(str(exc)) from None


def setup_call(model: str | None, options: tuple[str, ...]) -> tuple[Target, dict[str, Any]]:
    """Keys, catalog, the model and the checked ``-o`` options; tells stderr why the model."""
    opts = parse_options(options)
    load_stored_keys()
    allm.configure(catalog=allm.catalog.BundledCatalog())
    target = resolve_target(model, os.environ.get("ALLM_MODEL"))
    if target.note:
        click.echo(f"allm: {target.note}", err=True)
    return target, opts


def logs_enabled() -> bool:
    """Logging is on unless ``allm logs off`` was run."""
    return files.read_settings().get("logs", True) is not False


def record_call(
    response: allm.Response,
    target: Target,
    *,
    prompt: str,
    system: str | None,
    options: dict[str, Any],
    started: float,
    attachments: tuple[str, ...] = (),
    conversation_id: str | None = None,
) -> None:
    """Add the call to the log, when logs are on."""
    if not logs_enabled():
        return
    error = response.metadata.get("error")
    usage = response.usage
    entry = logdb.LogEntry(
        id=response.request_id or f"r{time.time_ns()}",
        datetime_utc=datetime.now(timezone.utc).isoformat(),
        model=target.name,
        prompt=prompt,
        response=response.text or "",
        system=system,
        attachments=tuple(os.path.abspath(path) for path in attachments),
        options=options_for_log(options),
        finish_reason=str(response.finish_reason.value)
        if isinstance(response.finish_reason, allm.FinishReason)
        else response.finish_reason,
        error=None if error is None else error_text(error),
        input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
        total_cost=usage.total_cost,
        duration_ms=int((time.monotonic() - started) * 1000),
        conversation_id=conversation_id,
    )
    logdb.record(files.logs_db(), entry)


def end_answer(text: str, *, printed: bool) -> None:
    """Finish the answer on the terminal: print it (unless it streamed) and end its line."""
    if not printed:
        sys.stdout.write(text)
    if text and not text.endswith("\n"):
        sys.stdout.write("\n")
    sys.stdout.flush()


def fail_if_error(response: allm.Response) -> None:
    """A call that failed after it was sent: what arrived was printed; exit 1."""
    error = response.metadata.get("error")
    if str(response.finish_reason) == "error" and error is not None:
        raise CallFailed(error_text(error))
