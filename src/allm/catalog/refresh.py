"""Check (and update) the prices of a catalog file against the ``genai-prices`` library.

A maintainer's tool, not used at run time::

    pip install genai-prices
    python -m allm.catalog.refresh            # report the bundled file's stale prices
    python -m allm.catalog.refresh --write    # rewrite them (and the file's "updated" date)
    python -m allm.catalog.refresh FILE       # another file of the same shape

Only prices are taken from genai-prices (the price in force today, with its long-context tiers);
capabilities and limits stay as the file has them. Rows genai-prices does not know are reported
and left alone. Exit status: 0 when the prices are current (or were rewritten), 1 when they
differ, 2 on a usage error.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import importlib
import json
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from .bundled import parse_catalog

__all__ = ["PriceSource", "dump_catalog", "genai_prices_source", "main", "refresh"]

PriceSource = Callable[[str, str], "dict[str, Any] | None"]
# allm provider -> genai-prices provider id
_PROVIDERS = {"openai": "openai", "anthropic": "anthropic", "gemini": "google"}
_ORDER = (
    "input",
    "cached_input",
    "cache_write",
    "output",
    "audio_input",
    "audio_output",
    "characters",
    "audio_minute",
    "tiers",
)
# our price key -> genai-prices ModelPrice attribute
_ATTRIBUTES = {
    "input": "input_mtok",
    "cached_input": "cache_read_mtok",
    "cache_write": "cache_write_mtok",
    "output": "output_mtok",
}


def _number(value: Any) -> int | float:
    number = float(value)
    return int(number) if number.is_integer() else number


def genai_prices_source(when: _dt.datetime | None = None, data: Any = None) -> PriceSource:
    """A price source over ``genai_prices.data`` (or ``data``, an object of the same shape)."""
    if data is None:
        try:
            data = importlib.import_module("genai_prices.data")
        except ImportError as exc:
            raise SystemExit("this tool needs genai-prices: pip install genai-prices") from exc
    moment = when or _dt.datetime.now(_dt.timezone.utc)
    providers = {provider.id: provider for provider in data.providers}

    def lookup(provider: str, model_id: str) -> dict[str, Any] | None:
        source = providers.get(_PROVIDERS.get(provider, provider))
        if source is None:
            return None
        model = source.find_model(model_id)
        if model is None:
            return None
        prices = model.get_prices(moment)
        pricing: dict[str, Any] = {}
        tiers: dict[int, dict[str, Any]] = {}
        for key, attribute in _ATTRIBUTES.items():
            value = getattr(prices, attribute, None)
            if value is None:
                continue
            pricing[key] = _number(getattr(value, "base", value))
            for tier in getattr(value, "tiers", None) or ():
                tiers.setdefault(int(tier.start), {})[key] = _number(tier.price)
        if tiers:
            pricing["tiers"] = [
                {"above_input_tokens": start, **values} for start, values in sorted(tiers.items())
            ]
        return pricing

    return lookup


def _same(ours: Any, theirs: Any) -> bool:
    return json.dumps(ours, sort_keys=True) == json.dumps(theirs, sort_keys=True)


def refresh(document: Mapping[str, Any], source: PriceSource) -> tuple[dict[str, Any], list[str]]:
    """The document with each known row's prices from ``source``, and a line per change.

    Price keys ``source`` does not price are kept as the row has them.
    """
    parse_catalog(document, "<refresh input>")  # a bad file is reported before anything else
    report: list[str] = []
    rows = []
    for row in document["models"]:
        name = f"{row['provider']}:{row['id']}"
        fresh = source(row["provider"], row["id"])
        if fresh is None:
            report.append(f"{name}: not in the price source, left as is")
            rows.append(dict(row))
            continue
        current = dict(row.get("pricing") or {})
        merged = {key: value for key, value in current.items() if key not in fresh}
        merged.update(fresh)
        ordered = {key: merged[key] for key in _ORDER if key in merged}
        if not _same(current, ordered):
            report.append(f"{name}: {json.dumps(current)} -> {json.dumps(ordered)}")
            row = {**row, "pricing": ordered}
        rows.append(dict(row))
    return {**document, "models": rows}, report


def dump_catalog(document: Mapping[str, Any]) -> str:
    """The document as the bundled file writes it: one model per block, one field per line."""
    lines = ["{"]
    for key, value in document.items():
        if key != "models":
            lines.append(f"  {json.dumps(key)}: {json.dumps(value)},")
    lines.append('  "models": [')
    models = list(document.get("models", []))
    for index, row in enumerate(models):
        lines.append("    {")
        fields = list(row.items())
        for position, (key, value) in enumerate(fields):
            comma = "," if position < len(fields) - 1 else ""
            lines.append(f"      {json.dumps(key)}: {json.dumps(value)}{comma}")
        lines.append("    }" + ("," if index < len(models) - 1 else ""))
    lines.append("  ]")
    lines.append("}")
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None, source: PriceSource | None = None) -> int:
    """The command line; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m allm.catalog.refresh", description=__doc__)
    parser.add_argument("file", nargs="?", default=str(Path(__file__).with_name("models.json")))
    parser.add_argument("--write", action="store_true", help="rewrite the file's prices")
    args = parser.parse_args(argv)
    path = Path(args.file)
    document = json.loads(path.read_text(encoding="utf-8"))
    updated, report = refresh(document, source or genai_prices_source())
    changes = [line for line in report if "->" in line]
    for line in report:
        print(line)
    if not changes:
        print(f"{path}: prices are current")
        return 0
    if args.write:
        updated["updated"] = _dt.date.today().isoformat()
        path.write_text(dump_catalog(updated), encoding="utf-8")
        print(f"{path}: {len(changes)} row(s) rewritten")
        return 0
    return 1


if __name__ == "__main__":  # pragma: no cover - the command line entry point
    sys.exit(main())
