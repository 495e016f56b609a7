"""A first call loads only what it needs: the modules of tools, MCP servers, limits, middleware
and typed output stay unloaded until something uses them, and the codec still reads the field
types that name them."""

from __future__ import annotations

import subprocess
import sys

import pytest

import allm
from allm import codec
from allm.errors import ConfigurationError

FIRST_CALL = """
import sys, allm
from allm.providers.fake import text, finish
engine = allm.Engine(adapter="fake", adapter_opts={"script": [text("hi"), finish()]})
assert allm.generate(engine, [allm.user("go")]).text == "hi"
print(",".join(sorted(m for m in sys.modules if m.startswith("allm."))))
"""

DEFERRED = (
    "allm.data.mcp",
    "allm.limits",
    "allm.execution.limiting",
    "allm.middleware.builtins",
    "allm.output.plan",
    "allm.output.check",
    "allm.output.schema",
)


def test_a_first_call_leaves_the_optional_machinery_unloaded() -> None:
    out = subprocess.run(
        [sys.executable, "-c", FIRST_CALL], check=True, capture_output=True, text=True
    ).stdout
    loaded = set(out.strip().split(","))
    assert "allm.engine" in loaded and "allm.execution.runner" in loaded
    assert loaded.isdisjoint(DEFERRED), sorted(loaded.intersection(DEFERRED))


def test_the_codec_resolves_field_types_an_engine_imports_lazily() -> None:
    plans = {name: kind for name, kind, _ in codec._plan_for(allm.Engine)}
    assert plans["tools"] == "tuple" and plans["mcp_servers"] == "tuple"
    assert plans["limits"] == "any"
    engine = allm.Engine(model="m", limits=allm.Limits(max_concurrency=2))
    assert allm.from_json(allm.to_json(engine)) == engine


def test_lazy_names_fall_through_to_globals_and_builtins() -> None:
    names = codec._LazyNames(allm.Engine)
    assert names["Tool"] is allm.Tool
    with pytest.raises(KeyError):
        names["tuple"]
    assert list(names) == [] and len(names) == 0


def test_lazy_module_names_still_resolve() -> None:
    import importlib

    from allm import middleware
    from allm.engine import __getattr__ as engine_names

    output = importlib.import_module("allm.output")
    assert middleware.redact is not None and middleware.Redact is not None
    assert output.typed_generate is not None and output.validate_answer is not None
    assert engine_names("Limits") is allm.Limits
    for module in (middleware, output, allm.data):
        with pytest.raises(AttributeError):
            module.no_such_name  # noqa: B018
    with pytest.raises(AttributeError):
        engine_names("no_such_name")
    assert allm.data.mcp.StdioServer is not None


def test_engine_checks_still_refuse_wrong_tools_servers_and_limits() -> None:
    with pytest.raises(ConfigurationError) as caught:
        allm.Engine(tools=("x",), mcp_servers=("y",), limits="z")  # type: ignore[arg-type]
    text = str(caught.value.problems)
    assert "tools must hold" in text and "mcp_servers[0]" in text and "limits must be" in text
