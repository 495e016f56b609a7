"""``allm embed TEXT``: one text's vector as a JSON list of numbers (``allm.embed``)."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

import click

import allm

from . import calls, files, logdb
from .calls import Target, UserError

__all__ = ["embed_command"]

FAKE_EMBEDDING_MODEL = "fake-embedding"
# The embedding model used when no -m is given and a provider's key is found, in this order.
DEFAULT_EMBEDDING_MODELS = (
    ("openai", "text-embedding-3-small"),
    ("gemini", "gemini-embedding-001"),
)
# -o names `allm embed` accepts: the embedding call keywords that take plain values.
EMBED_OPTION_TYPES: dict[str, tuple[Callable[[str], Any], str]] = {
    "input_type": (str, "query or document"),
    "base_url": calls.OPTION_TYPES["base_url"],
    "timeout": calls.OPTION_TYPES["timeout"],
}


def embedding_target(model: str | None) -> Target:
    """``-m`` first, then the first provider with a key and embeddings, then the Fake."""
    if model:
        if model.strip() == "fake":
            return Target("fake", FAKE_EMBEDDING_MODEL)
        return calls.parse_model(model)
    for provider, model_id in DEFAULT_EMBEDDING_MODELS:
        if allm.keys.get(provider) is not None:
            return Target(provider, model_id, f"using {provider}:{model_id} (a key was found)")
    return Target(
        "fake",
        FAKE_EMBEDDING_MODEL,
        "no model given and no API key found: embedding with the offline Fake provider "
        "(fake_embeddings; set a key with `allm keys set openai`, or pick a model with -m)",
    )


def _text(argument: str | None) -> str:
    if argument is None and not sys.stdin.isatty():
        argument = sys.stdin.read().strip("\n")
    if not argument or not argument.strip():
        raise UserError('no text: give it (allm embed "...") or pipe it on stdin')
    return argument


def _record(
    response: allm.EmbeddingResponse,
    target: Target,
    text: str,
    opts: dict[str, Any],
    started: float,
) -> None:
    if not calls.logs_enabled():
        return
    entry = logdb.LogEntry(
        id=f"e{time.time_ns()}",
        datetime_utc=datetime.now(timezone.utc).isoformat(),
        model=target.name,
        prompt=text,
        response="",  # the vector is not logged: it is large and the text gives it back
        options={**calls.options_for_log(opts), "dimensions": response.dimensions},
        input_tokens=response.usage.input_tokens,
        total_cost=response.usage.total_cost,
        duration_ms=int((time.monotonic() - started) * 1000),
    )
    logdb.record(files.logs_db(), entry)


@click.command("embed")
@click.argument("text", required=False)
@click.option(
    "-m", "--model", help="provider:id of an embedding model, e.g. openai:text-embedding-3-small."
)
@click.option(
    "--dimensions",
    type=click.IntRange(min=1),
    metavar="N",
    help="Ask for a vector of N numbers.",
)
@click.option(
    "-o",
    "--option",
    "options",
    multiple=True,
    metavar="KEY=VALUE",
    help="input_type=query|document, base_url=URL or timeout=SECONDS.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the vector, model and usage.")
@click.option("-u", "--usage", is_flag=True, help="Show token counts and cost.")
def embed_command(
    text: str | None,
    model: str | None,
    dimensions: int | None,
    options: tuple[str, ...],
    as_json: bool,
    usage: bool,
) -> None:
    """Print TEXT's embedding as a JSON list of numbers (stdin, when piped, is the text)."""
    content = _text(text)
    opts = calls.parse_options(options, EMBED_OPTION_TYPES)
    if dimensions is not None:
        opts["dimensions"] = dimensions
    started = time.monotonic()
    with calls.user_errors():
        calls.load_stored_keys()
        allm.configure(catalog=allm.catalog.BundledCatalog())
        target = embedding_target(model)
        if target.note:
            click.echo(f"allm: {target.note}", err=True)
        engine = allm.Engine(embedding_model=target.name)
        try:
            response = allm.embed(engine, content, **opts)
        except allm.AdapterError as exc:  # sent, and the provider or the network failed
            raise calls.CallFailed(calls.error_text(exc)) from None
    _record(response, target, content, opts, started)
    vector = list(response.vector)
    if as_json:
        document = {
            "vector": vector,
            "model": target.name,
            "dimensions": response.dimensions,
            "usage": calls.usage_summary(response.usage),
        }
        click.echo(json.dumps(document))
    else:
        click.echo(json.dumps(vector))
    if usage:
        click.echo(calls.usage_line(response.usage), err=True)
