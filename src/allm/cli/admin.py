"""The commands that call no model: ``allm models``, ``allm keys`` and ``allm logs``."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

import allm

from . import calls, files, logdb
from .calls import user_errors

__all__ = ["keys_group", "logs_group", "models_command"]


# -- models ----------------------------------------------------------------------------------


def _model_row(ref: allm.ModelRef) -> dict[str, Any]:
    return {
        "model": str(ref),
        "provider": ref.provider,
        "id": ref.id,
        "name": ref.metadata.get("name"),
        "capabilities": dict(ref.capabilities),
        "limits": dict(ref.limits),
        "pricing": dict(ref.pricing) if ref.pricing else None,
    }


def _price(value: Any) -> str:
    return "?" if value is None else f"${value:g}"


def _model_line(row: dict[str, Any]) -> str:
    limits, pricing = row["limits"], row["pricing"] or {}
    can = [name for name, on in sorted(row["capabilities"].items()) if on is True]
    pieces = [row["model"]]
    if limits.get("context"):
        pieces.append(f"context {limits['context']:,}")
    if limits.get("output"):
        pieces.append(f"output {limits['output']:,}")
    if pricing:
        pieces.append(
            f"{_price(pricing.get('input'))} in / {_price(pricing.get('output'))} out per 1M tokens"
        )
    if can:
        pieces.append(" ".join(can))
    return "  ".join(pieces)


@click.command("models")
@click.option("--provider", help="Only this provider's models (openai, anthropic, gemini, ...).")
@click.option("--json", "as_json", is_flag=True, help="Print the models as a JSON list.")
def models_command(provider: str | None, as_json: bool) -> None:
    """The model catalog: capabilities, limits and prices (per million tokens)."""
    catalog = allm.catalog.BundledCatalog()
    rows = [_model_row(ref) for ref in catalog.models(provider)]
    if provider is not None and not rows:
        known = sorted({ref.provider for ref in catalog.models()})
        raise calls.UserError(
            f"no models of {provider!r} in the catalog (providers: {', '.join(known)})"
        )
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    for row in rows:
        click.echo(_model_line(row))
    click.echo(
        f"({len(rows)} models, catalog of {catalog.updated}; fake:echo answers offline)", err=True
    )


# -- keys ------------------------------------------------------------------------------------


def _key_providers() -> list[str]:
    from ..adapters import registered_names

    return sorted((registered_names() - {"fake"}) | {"google"})


def mask(key: str) -> str:
    """Enough of a key to recognize it, never enough to use it."""
    if len(key) < 12:
        return "*" * len(key)
    return f"{key[:3]}...{key[-4:]}"


@click.group("keys")
def keys_group() -> None:
    """API keys kept in the user key file (mode 0600); calls use them before the environment."""


@keys_group.command("set")
@click.argument("provider")
def keys_set(provider: str) -> None:
    """Store PROVIDER's key: read from stdin, or asked for without echo on a terminal."""
    known = _key_providers()
    if provider not in known:
        raise calls.UserError(f"unknown provider {provider!r} (one of: {', '.join(known)})")
    if sys.stdin.isatty():
        key = click.prompt(f"{provider} key", hide_input=True, err=True)
    else:
        key = sys.stdin.read()
    key = key.strip()
    if not key:
        raise calls.UserError("no key given: pipe it on stdin or type it at the prompt")
    if any(ch.isspace() for ch in key):
        raise calls.UserError("a key cannot contain spaces or line breaks")
    with user_errors():
        stored = files.read_keys()
        stored[provider] = key
        files.write_keys(stored)
    click.echo(f"allm: {provider} key saved in {files.key_file()}", err=True)


@keys_group.command("list")
def keys_list() -> None:
    """The providers with a stored key, masked."""
    with user_errors():
        stored = files.read_keys()
    if not stored:
        click.echo("allm: no keys stored yet (allm keys set PROVIDER)", err=True)
    for provider in sorted(stored):
        click.echo(f"{provider}\t{mask(stored[provider])}")


@keys_group.command("path")
def keys_path() -> None:
    """Where the keys are kept."""
    click.echo(str(files.key_file()))


# -- logs ------------------------------------------------------------------------------------


def _entry_text(entry: logdb.LogEntry) -> str:
    head = f"# {entry.datetime_utc[:19]}Z  {entry.model}  {entry.id}"
    if entry.conversation_id:
        head += f"  conversation {entry.conversation_id}"
    lines = [head, ""]
    if entry.system:
        lines += ["## System", "", entry.system, ""]
    lines += ["## Prompt", "", entry.prompt, ""]
    if entry.attachments:
        lines += ["## Attachments", "", *(f"- {path}" for path in entry.attachments), ""]
    lines += ["## Response", "", entry.response, ""]
    if entry.error:
        lines += ["## Error", "", entry.error, ""]
    return "\n".join(lines)


@click.group("logs", invoke_without_command=True)
@click.option(
    "-n",
    "--count",
    default=3,
    show_default=True,
    type=click.IntRange(min=1),
    help="How many of the latest calls.",
)
@click.option("--json", "as_json", is_flag=True, help="Print them as a JSON list.")
@click.pass_context
def logs_group(ctx: click.Context, count: int, as_json: bool) -> None:
    """Every prompt and response, in a SQLite database under the user directory (on by default)."""
    if ctx.invoked_subcommand is not None:
        return
    with user_errors():
        entries = logdb.latest(files.logs_db(), count)
    if as_json:
        rows = [{name: getattr(entry, name) for name in logdb.COLUMNS} for entry in entries]
        click.echo(json.dumps(rows, indent=2))
        return
    if not entries:
        click.echo("allm: nothing logged yet", err=True)
    for entry in entries:
        click.echo(_entry_text(entry))


@logs_group.command("off")
def logs_off() -> None:
    """Stop logging (what was logged stays)."""
    with user_errors():
        files.write_settings({"logs": False})
    click.echo("allm: logging is off", err=True)


@logs_group.command("on")
def logs_on() -> None:
    """Log every call again."""
    with user_errors():
        files.write_settings({"logs": True})
    click.echo("allm: logging is on", err=True)


@logs_group.command("status")
def logs_status() -> None:
    """Whether calls are logged, and how many are."""
    with user_errors():
        state = "on" if calls.logs_enabled() else "off"
        count = logdb.count(files.logs_db())
    click.echo(f"logging is {state}; {count} calls logged in {files.logs_db()}")


@logs_group.command("path")
def logs_path() -> None:
    """Where the log database is."""
    click.echo(str(files.logs_db()))
