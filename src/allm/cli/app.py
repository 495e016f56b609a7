"""The ``allm`` command group and the one-prompt command (``allm "prompt"``).

Commands live one per module and are added to ``cli`` here; a new command (``allm embed`` once
embeddings exist) is a module with a ``click.Command`` and one ``add_command`` line below.
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any

import click
from click.exceptions import NoArgsIsHelpError

import allm

from .. import __version__
from . import calls
from .admin import keys_group, logs_group, models_command
from .calls import end_answer, fail_if_error, model_options, record_call, setup_call, user_errors
from .chat import chat_command

__all__ = ["cli", "run"]
_GROUP_OPTIONS = frozenset({"--help", "-h", "--version"})


class _PromptByDefault(click.Group):
    """``allm "prompt"`` runs the ``prompt`` command: anything that is not a command name or an
    option of the group itself is a prompt (``allm prompt chat`` asks about the word "chat")."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in _GROUP_OPTIONS:
            args = ["prompt", *args]
        elif not args and not sys.stdin.isatty():
            args = ["prompt"]  # `echo text | allm`
        return super().parse_args(ctx, args)


@click.group(
    cls=_PromptByDefault,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.version_option(__version__, prog_name="allm")
def cli() -> None:
    """Talk to language models from the terminal.

    `allm "prompt"` asks once (stdin, when piped, is appended to the prompt); `allm chat` holds
    a conversation. With no key and no -m, the offline Fake provider answers (and says so).
    """


def _prompt_text(prompt: str | None) -> str:
    piped = "" if sys.stdin.isatty() else sys.stdin.read()
    parts = [part for part in (prompt, piped.strip("\n")) if part and part.strip()]
    if not parts:
        raise calls.UserError('no prompt: give one (allm "...") or pipe text on stdin')
    return "\n\n".join(parts)


@cli.command("prompt")
@click.argument("prompt", required=False)
@model_options
@click.option(
    "-a",
    "--attach",
    multiple=True,
    metavar="FILE",
    help="Attach an image or a document (repeatable).",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document with the answer.")
def prompt_command(
    prompt: str | None,
    model: str | None,
    system: str | None,
    options: tuple[str, ...],
    no_stream: bool,
    usage: bool,
    attach: tuple[str, ...],
    as_json: bool,
) -> None:
    """Ask a model once; the answer streams to the terminal."""
    text = _prompt_text(prompt)
    with user_errors():
        target, opts = setup_call(model, options)
        parts = calls.attachment_parts(attach)
        messages = [allm.system(system)] if system else []
        messages.append(allm.user([allm.TextPart(text), *parts]) if parts else allm.user(text))
        engine = calls.engine_for(target, text)
        started = time.monotonic()
        if as_json or no_stream:
            response = allm.generate(engine, messages, streaming=not no_stream, **opts)
        else:
            stream = allm.stream_generate(engine, messages, on_event=calls.echo_delta, **opts)
            response = stream.collect()
    record_call(
        response,
        target,
        prompt=text,
        system=system,
        options=opts,
        started=started,
        attachments=attach,
    )
    if as_json:
        document: dict[str, Any] = {
            "text": response.text,
            "model": target.name,
            "finish_reason": str(response.finish_reason),
            "id": response.request_id,
        }
        error = response.metadata.get("error")
        if error is not None:
            document["error"] = calls.error_text(error)
        if usage:
            document["usage"] = calls.usage_summary(response.usage)
        click.echo(json.dumps(document, indent=2))
    else:
        end_answer(response.text or "", printed=not no_stream)
        if usage:
            click.echo(calls.usage_line(response.usage), err=True)
    fail_if_error(response)


# One line per command; `allm embed` joins here once embeddings exist.
cli.add_command(chat_command)
cli.add_command(models_command)
cli.add_command(keys_group)
cli.add_command(logs_group)


def run(argv: list[str] | None = None) -> int:
    """Run the command line; user errors are one ``allm: error: ...`` line, never a traceback."""
    try:
        result = cli.main(args=argv, prog_name="allm", standalone_mode=False)
    except click.UsageError as exc:
        if isinstance(exc, NoArgsIsHelpError) and exc.ctx is not None:  # `allm`, `allm keys`
            click.echo(exc.ctx.get_help())
            return 0
        hint = f" (see `{exc.ctx.command_path} --help`)" if exc.ctx is not None else ""
        click.echo(f"allm: error: {exc.format_message()}{hint}", err=True)
        return exc.exit_code
    except click.ClickException as exc:
        click.echo(f"allm: error: {exc.format_message()}", err=True)
        return exc.exit_code
    except (click.Abort, KeyboardInterrupt):
        click.echo("\nallm: interrupted", err=True)
        return 130
    except BrokenPipeError:
        # The reader left (`allm ... | head`): not an error; keep Python from complaining at exit.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    return result if isinstance(result, int) else 0
