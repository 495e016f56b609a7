"""The README's providers tables say what the code does: one row per chat adapter the registry
names (its class, its registry name), the key variables ``allm.keys`` reads for it (first, in
order), whether a key is optional, each preset's base URL, and the extra an adapter needs: the
one whose packages its own modules import."""

from __future__ import annotations

import ast
import functools
import importlib.metadata
import re
from pathlib import Path
from typing import Any

import pytest

import allm.providers
from allm import keys
from allm.providers.presets import PRESET_CLASSES, PRESETS
from allm.registry import _registry, load_class, registered_names

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()
SRC = Path(allm.providers.__file__).resolve().parents[2]  # the directory holding allm/
VARIABLE = re.compile(r"`([A-Z][A-Z0-9_]*)`")


def providers_section() -> str:
    return README.split("\n## Providers\n", 1)[1].split("\n## ", 1)[0]


def table_rows(section: str, first_header: str) -> list[list[str]]:
    """The body rows of the Markdown table whose first header cell is ``first_header``."""
    lines = section.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"| {first_header} |"))
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
    return rows


def name_in(cell: str) -> str:
    found = re.fullmatch(r'`"([a-z_]+)"`', cell)
    assert found, cell
    return found.group(1)


def class_in(cell: str) -> str:
    found = re.match(r"`([A-Za-z_.]+)", cell)
    assert found, cell
    return found.group(1)


ADAPTER_ROWS = table_rows(providers_section(), "adapter")
PRESET_ROWS = table_rows(providers_section(), "preset")


@functools.cache
def chat_adapters() -> dict[str, type[Any]]:
    """Every registered adapter that streams a chat answer (not images, embeddings, audio)."""
    classes = {name: load_class(_registry[name]) for name in registered_names()}
    return {name: cls for name, cls in classes.items() if hasattr(cls, "stream")}


@functools.cache
def extra_modules() -> dict[str, set[str]]:
    """Each extra of the distribution, and the top-level modules its packages install."""
    by_distribution: dict[str, set[str]] = {}
    for module, distributions in importlib.metadata.packages_distributions().items():
        for distribution in distributions:
            by_distribution.setdefault(_normal(distribution), set()).add(module)
    extras: dict[str, set[str]] = {}
    for requirement in importlib.metadata.requires("allm-py") or []:
        found = re.search(r"extra == ['\"]([a-z_-]+)['\"]", requirement)
        if found:
            distribution = _normal(re.split(r"[\[<>=!~; ]", requirement, maxsplit=1)[0])
            extras.setdefault(found.group(1), set()).update(by_distribution.get(distribution, ()))
    return extras


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def imported_modules(cls: type[Any]) -> set[str]:
    """The top-level modules the adapter's own package imports (not its base classes')."""
    package = SRC.joinpath(*cls.__module__.split(".")[:-1])
    found: set[str] = set()
    for path in package.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
    return found


def needed_extra(cls: type[Any]) -> str:
    imported = imported_modules(cls)
    needed = [extra for extra, modules in extra_modules().items() if modules & imported]
    needed = [extra for extra in needed if extra != "dev"]
    assert len(needed) <= 1, (cls, needed)
    return needed[0] if needed else "none"


def test_the_tables_list_every_chat_adapter_and_preset_once() -> None:
    listed = [name_in(row[1]) for row in ADAPTER_ROWS + PRESET_ROWS]
    assert len(listed) == len(set(listed))
    assert set(listed) == set(chat_adapters())
    assert {name_in(row[1]) for row in PRESET_ROWS} == set(PRESETS) == set(PRESET_CLASSES)


@pytest.mark.parametrize("row", ADAPTER_ROWS, ids=lambda row: name_in(row[1]))
def test_an_adapter_row_names_its_class_key_and_extra(row: list[str]) -> None:
    name = name_in(row[1])
    cls = chat_adapters()[name]
    path = class_in(row[0])
    assert path.startswith("allm.providers.")
    assert getattr(allm.providers, path.rsplit(".", 1)[1]) is cls
    check_key(cls, row[2])
    assert row[3].strip("`") == needed_extra(cls)


@pytest.mark.parametrize("row", PRESET_ROWS, ids=lambda row: name_in(row[1]))
def test_a_preset_row_names_its_class_url_key_and_extra(row: list[str]) -> None:
    name = name_in(row[1])
    cls = PRESET_CLASSES[name]
    assert chat_adapters()[name] is cls
    assert getattr(allm.providers.presets, class_in(row[0])) is cls
    assert row[2].strip("`") == PRESETS[name].base_url == cls.default_base_url
    check_key(cls, row[3])
    assert VARIABLE.findall(row[3]) == [PRESETS[name].key_variable]
    assert row[4].strip("`") == needed_extra(cls)


def check_key(cls: type[Any], cell: str) -> None:
    """The variables ``allm.keys`` reads come first, in order; an optional key says so."""
    provider = getattr(cls, "key_provider", None)
    if provider is None:  # the Fake: no key at all
        assert cell == "none"
        return
    wanted = list(keys.env_vars(provider))
    assert VARIABLE.findall(cell)[: len(wanted)] == wanted, cell
    optional = "optional" in cell or cell.startswith("none")
    assert optional == (not getattr(cls, "requires_key", True)), cell


def test_an_extra_is_read_from_the_adapters_imports() -> None:
    extras = extra_modules()
    assert "botocore" in extras["bedrock"] and "google" in extras["vertex"]
    assert needed_extra(chat_adapters()["bedrock"]) == "bedrock"
    assert needed_extra(chat_adapters()["openai"]) == "none"
