"""The engine: immutable, helpers return new engines, resolution rules, serialization (36-39)."""

from __future__ import annotations

import dataclasses
import pickle

import pytest

import allm
from allm.engine import ENGINE_FIELD_KEYS, Engine
from allm.errors import ConfigurationError
from allm.providers.fake import Fake


def _tool(name: str, description: str = "d") -> allm.Tool:
    return allm.tool(name=name, description=description, schema={"type": "object"})


def module_level_handler(arguments: dict) -> str:
    return "done"


class CustomAdapter(Fake):
    """An adapter class that is not registered under any name."""


# -- 36: resolve_tools ---------------------------------------------------------------------------


def test_f036_resolve_tools_replaces_in_place():
    a, b, c = _tool("a"), _tool("b"), _tool("c")
    b2, d = _tool("b", "new b"), _tool("d")
    engine = Engine(tools=[a, b, c])

    resolved = engine.resolve_tools({"tools": [b2, d]})

    assert [t.name for t in resolved] == ["a", "b", "c", "d"]
    assert resolved[1] is b2
    assert resolved == (a, b2, c, d)


def test_f036_resolve_tools_without_a_tools_opt_is_the_engine_tools():
    a, b = _tool("a"), _tool("b")
    engine = Engine(tools=(a, b))

    assert engine.resolve_tools({}) == (a, b)
    assert engine.resolve_tools({"tools": None}) == (a, b)
    assert engine.resolve_tools({"tools": []}) == (a, b)


def test_f036_resolve_tools_appends_new_tools_in_opt_order():
    a = _tool("a")
    z, y = _tool("z"), _tool("y")

    assert Engine(tools=[a]).resolve_tools({"tools": [z, y]}) == (a, z, y)
    assert Engine().resolve_tools({"tools": [z, y]}) == (z, y)


def test_f036_resolve_tools_over_a_given_base():
    a, b, b2 = _tool("a"), _tool("b"), _tool("b", "other")
    engine = Engine(tools=[_tool("engine_only")])

    assert engine.resolve_tools({"tools": [b2]}, base=[a, b]) == (a, b2)


def test_f036_call_tools_reach_the_adapter_merged(make_engine, recorded):
    a, b, c = _tool("a"), _tool("b"), _tool("c")
    b2, d = _tool("b", "replaced"), _tool("d")
    engine = make_engine(tools=[a, b, c])

    allm.generate(engine, [allm.user("hi")], tools=[b2, d])

    request, _ = recorded[0]
    assert request.tools == (a, b2, c, d)


# -- 37: resolve_params --------------------------------------------------------------------------


def test_f037_resolve_params_call_wins_and_engine_fields_are_dropped():
    engine = Engine(params={"temperature": 0.1, "top_p": 0.5, "seed": 7})
    opts = {field: object() for field in ENGINE_FIELD_KEYS}
    opts.update({"temperature": 0.9, "frequency_penalty": 0.2})

    resolved = engine.resolve_params(opts)

    assert resolved == {"temperature": 0.9, "top_p": 0.5, "seed": 7, "frequency_penalty": 0.2}
    assert not set(resolved) & ENGINE_FIELD_KEYS


def test_f037_engine_field_deny_list_is_complete():
    expected = {
        "adapter",
        "adapter_opts",
        "model",
        "tools",
        "tool_executor",
        "tool_result_encoder",
        "image_adapter",
        "params",
        "context",
        "retry",
        "middleware",
        "metadata",
        "api_key",
    }
    assert expected <= ENGINE_FIELD_KEYS


def test_f037_resolve_params_does_not_touch_the_engine():
    engine = Engine(params={"temperature": 0.1})

    engine.resolve_params({"temperature": 0.5, "x": 1})

    assert engine.params == {"temperature": 0.1}


def test_f037_provider_options_reach_the_adapter_beside_the_engine_params(make_engine, recorded):
    engine = make_engine(params={"top_k": 5, "user": "engine"})

    allm.generate(
        engine,
        [allm.user("hi")],
        provider_options={"fake": {"user": "call", "logit_bias": {"1": 2}}},
    )

    _, call = recorded[0]
    assert dict(call.params) == {"top_k": 5, "user": "engine"}
    assert dict(call.provider_options) == {"user": "call", "logit_bias": {"1": 2}}


def test_f037_resolve_model_call_keyword_wins():
    engine = Engine(model="engine-model")

    assert engine.resolve_model({"model": "call-model"}) == "call-model"
    assert engine.resolve_model({}) == "engine-model"
    assert engine.resolve_model({"model": None}) == "engine-model"


# -- 38: helpers ---------------------------------------------------------------------------------


def test_f038_put_tool_and_put_tools_append_without_dedup():
    a, a2, b = _tool("a"), _tool("a", "again"), _tool("b")
    engine = Engine(tools=[a])

    once = engine.put_tool(a2)
    twice = once.put_tools([b, a])

    assert once.tools == (a, a2)
    assert twice.tools == (a, a2, b, a)
    assert engine.tools == (a,)  # the original is untouched
    assert once.id == engine.id == twice.id


def test_f038_merge_opts_dedups_tools_and_merges_params_and_context():
    a, b, b2, c = _tool("a"), _tool("b"), _tool("b", "new"), _tool("c")
    engine = Engine(
        model="m1",
        tools=[a, b],
        params={"temperature": 0.1, "top_p": 0.9},
        context={"user": "u1", "tenant": "t"},
        metadata={"keep": True},
    )

    merged = engine.merge_opts(
        model="m2",
        tools=[b2, c],
        params={"temperature": 0.7},
        context={"user": "u2"},
        metadata={"ignored": True},
        retry=False,
    )

    assert merged.model == "m2"
    assert merged.tools == (a, b2, c)
    assert merged.params == {"temperature": 0.7, "top_p": 0.9}
    assert merged.context == {"user": "u2", "tenant": "t"}
    assert merged.metadata == {"keep": True}
    assert merged.retry == "default"
    assert merged.id == engine.id
    assert engine.params == {"temperature": 0.1, "top_p": 0.9}


def test_f038_merge_opts_without_recognised_keys_changes_nothing():
    engine = Engine(model="m", params={"x": 1})

    assert engine.merge_opts(unknown=1) == engine


def test_f038_other_helpers_return_new_engines_with_the_same_id():
    engine = Engine(model="m", params={"a": 1}, context={"k": 1})

    assert engine.put_param("b", 2).params == {"a": 1, "b": 2}
    assert engine.put_context("j", 2).context == {"k": 1, "j": 2}
    assert engine.with_model("other").model == "other"
    assert {e.id for e in (engine.put_param("b", 2), engine.with_model(None))} == {engine.id}
    assert (engine.model, engine.params, engine.context) == ("m", {"a": 1}, {"k": 1})


def test_f038_engine_is_immutable():
    engine = Engine(model="m")

    with pytest.raises(dataclasses.FrozenInstanceError):
        engine.model = "other"  # type: ignore[misc]


def test_f038_tools_given_as_a_list_are_stored_as_a_tuple():
    engine = Engine(tools=[_tool("a")])

    assert isinstance(engine.tools, tuple)


def test_f038_invalid_fields_raise_configuration_error_listing_every_problem():
    with pytest.raises(ConfigurationError) as info:
        Engine(tools=["not a tool"], params=[1], context="nope", adapter=42)

    problems = " | ".join(info.value.problems)
    assert info.value.reason == "invalid_adapter"
    assert len(info.value.problems) == 4
    for word in ("tools", "params", "context", "adapter"):
        assert word in problems


# -- 39: no keys, pickle, JSON, ids --------------------------------------------------------------


def test_f039_engines_hold_no_keys():
    names = {f.name for f in dataclasses.fields(Engine)}

    assert "api_key" not in names
    assert not any("key" in name for name in names)
    with pytest.raises(TypeError):
        Engine(api_key="sk-secret")  # type: ignore[call-arg]


def test_f039_a_call_api_key_never_lands_on_the_engine(recorded):
    engine = Engine(adapter="fake", adapter_opts={"script": [("text", "hi"), ("finish", "stop")]})
    before = allm.to_json(engine)

    allm.generate(
        engine, [allm.user("hi")], api_key="sk-call-secret", adapter_opts={"record": recorded}
    )

    _, call = recorded[0]
    assert call.api_key == "sk-call-secret"
    assert "sk-call-secret" not in repr(call)
    assert "sk-call-secret" not in repr(call.params)
    assert call.engine is engine
    assert allm.to_json(engine) == before
    assert "sk-call-secret" not in before
    assert "sk-call-secret" not in repr(engine)


def _rich_engine() -> Engine:
    tool = allm.tool(
        name="lookup",
        description="look something up",
        schema={"type": "object", "properties": {"q": {"type": "string"}}},
        handler=module_level_handler,
    )
    return Engine(
        adapter="fake",
        adapter_opts={"script": [("text", "hi"), ("finish", "stop")], "timeout": 3},
        model="fake-model",
        tools=(tool,),
        params={"temperature": 0.2, "max_tokens": 64},
        context={"tenant": "t1"},
        retry={"max_attempts": 5, "retry_on": [429]},
        metadata={"team": "x"},
    )


def test_f039_engine_round_trips_through_pickle():
    engine = _rich_engine()

    restored = pickle.loads(pickle.dumps(engine))

    assert restored == engine
    assert restored.id == engine.id
    assert restored.tools[0].handler is module_level_handler


def test_f039_engine_round_trips_through_json():
    engine = _rich_engine()

    text = allm.to_json(engine)
    restored = allm.from_json(text)

    assert isinstance(restored, Engine)
    assert restored == engine
    assert restored.id == engine.id
    assert restored.retry_policy() == engine.retry_policy()


def test_f039_a_restored_engine_still_runs():
    restored = allm.from_json(allm.to_json(_rich_engine()))

    assert allm.generate(restored, [allm.user("hi")]).text == "hi"


def test_f039_adapter_class_or_instance_serializes_as_its_registered_name():
    by_class = allm.from_json(allm.to_json(Engine(adapter=Fake)))
    by_instance = allm.from_json(allm.to_json(Engine(adapter=Fake())))

    assert by_class.adapter == "fake"
    assert by_instance.adapter == "fake"


def test_f039_two_engines_from_identical_options_have_different_ids():
    first = Engine(adapter="fake", model="m", params={"temperature": 0.1})
    second = Engine(adapter="fake", model="m", params={"temperature": 0.1})

    assert first.id != second.id
    assert first != second
    assert len(first.id) == 22


def test_f039_identical_fake_scripts_on_two_engines_do_not_share_a_cursor():
    script = [("text", "once"), ("finish", "stop")]
    first = Engine(adapter="fake", adapter_opts={"script": script})
    second = Engine(adapter="fake", adapter_opts={"script": script})

    assert allm.generate(first, [allm.user("hi")]).text == "once"
    assert allm.generate(second, [allm.user("hi")]).text == "once"
    # the first engine's single script is used up; the second's cursor was its own
    with pytest.raises(allm.AdapterError) as info:
        allm.generate(first, [allm.user("hi")])
    assert info.value.reason == "no_scripted_response"


def test_f039_an_unregistered_adapter_class_round_trips_by_import_path():
    engine = Engine(adapter=CustomAdapter, model="m")

    text = allm.to_json(engine)
    restored = allm.from_json(text)

    assert f"{CustomAdapter.__module__}:CustomAdapter" in text
    assert restored.adapter is CustomAdapter
    assert restored == engine
