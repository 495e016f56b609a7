"""The maintainer's price check: ``python -m allm.catalog.refresh`` against a price source."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import allm
from allm.catalog import BundledCatalog, CatalogError
from allm.catalog.refresh import dump_catalog, genai_prices_source, main, refresh

DATA = Path(allm.catalog.__file__).with_name("models.json")


def test_the_bundled_file_is_written_in_the_tools_own_layout():
    text = DATA.read_text(encoding="utf-8")

    assert dump_catalog(json.loads(text)) == text


def source_of(prices: dict[tuple[str, str], dict[str, Any]]) -> Any:
    return lambda provider, model_id: prices.get((provider, model_id))


DOCUMENT = {
    "format": 1,
    "updated": "2026-01-01",
    "models": [
        {"provider": "openai", "id": "a", "pricing": {"input": 1, "output": 2}},
        {"provider": "openai", "id": "b", "pricing": {"input": 1, "cache_write": 9}},
        {"provider": "gemini", "id": "c", "capabilities": {"tools": True}},
    ],
}


def test_refresh_reports_and_replaces_stale_prices_only():
    fresh = {
        ("openai", "a"): {"input": 1, "output": 2},
        ("openai", "b"): {"input": 3, "tiers": [{"above_input_tokens": 10, "input": 6}]},
    }

    updated, report = refresh(DOCUMENT, source_of(fresh))

    assert report == [
        'openai:b: {"input": 1, "cache_write": 9} -> '
        '{"input": 3, "cache_write": 9, "tiers": [{"above_input_tokens": 10, "input": 6}]}',
        "gemini:c: not in the price source, left as is",
    ]
    models = updated["models"]
    assert models[0] == DOCUMENT["models"][0]
    assert models[1]["pricing"] == {
        "input": 3,
        "cache_write": 9,
        "tiers": [{"above_input_tokens": 10, "input": 6}],
    }
    assert models[2] == DOCUMENT["models"][2]
    assert DOCUMENT["models"][1]["pricing"] == {"input": 1, "cache_write": 9}  # not mutated


def test_refresh_refuses_a_bad_file():
    with pytest.raises(CatalogError):
        refresh({"models": [{"provider": "x"}]}, source_of({}))


def test_main_checks_then_writes(tmp_path, capsys):
    path = tmp_path / "models.json"
    path.write_text(dump_catalog(DOCUMENT))
    fresh = source_of({("openai", "a"): {"input": 5, "output": 2}})

    assert main([str(path)], source=fresh) == 1
    assert json.loads(path.read_text()) == DOCUMENT  # a check changes nothing
    assert main([str(path), "--write"], source=fresh) == 0
    written = BundledCatalog.from_file(path)
    assert written.lookup("openai", "a").pricing == {"input": 5, "output": 2}
    assert written.updated == dt.date.today().isoformat()
    assert main([str(path)], source=fresh) == 0
    out = capsys.readouterr().out
    assert "1 row(s) rewritten" in out
    assert "prices are current" in out


def test_main_on_a_copy_of_the_bundled_file_with_its_own_prices(tmp_path):
    copy = tmp_path / "models.json"
    shutil.copy(DATA, copy)
    document = json.loads(copy.read_text())
    same = {(row["provider"], row["id"]): row["pricing"] for row in document["models"]}

    assert main([str(copy)], source=source_of(same)) == 0


# genai-prices' shape, enough for the adapter: providers with find_model, models with get_prices.


@dataclass
class Tier:
    start: int
    price: Decimal


@dataclass
class Tiered:
    base: Decimal
    tiers: list[Tier]


@dataclass
class Price:
    input_mtok: Any = None
    cache_read_mtok: Any = None
    cache_write_mtok: Any = None
    output_mtok: Any = None


@dataclass
class Model:
    id: str
    prices: Price
    asked: list[dt.datetime] = field(default_factory=list)

    def get_prices(self, when: dt.datetime) -> Price:
        self.asked.append(when)
        return self.prices


@dataclass
class Provider:
    id: str
    models: list[Model]

    def find_model(self, model_id: str) -> Model | None:
        return next((model for model in self.models if model.id == model_id), None)


@dataclass
class Data:
    providers: list[Provider]


def test_genai_prices_source_reads_the_price_in_force():
    flash = Model(
        "gemini-x",
        Price(
            input_mtok=Tiered(Decimal("1.25"), [Tier(200000, Decimal("2.5"))]),
            cache_read_mtok=Decimal("0.125"),
            output_mtok=Tiered(Decimal("10"), [Tier(200000, Decimal("15"))]),
        ),
    )
    data = Data([Provider("google", [flash]), Provider("openai", [])])
    when = dt.datetime(2026, 11, 24, tzinfo=dt.timezone.utc)

    lookup = genai_prices_source(when, data=data)

    assert lookup("gemini", "gemini-x") == {
        "input": 1.25,
        "cached_input": 0.125,
        "output": 10,
        "tiers": [{"above_input_tokens": 200000, "input": 2.5, "output": 15}],
    }
    assert flash.asked == [when]
    assert lookup("openai", "nope") is None
    assert lookup("mistral", "m") is None


def test_genai_prices_source_without_the_package(monkeypatch):
    import importlib

    def missing(name: str) -> Any:
        raise ImportError(name)

    monkeypatch.setattr(importlib, "import_module", missing)

    with pytest.raises(SystemExit, match="pip install genai-prices"):
        genai_prices_source()
