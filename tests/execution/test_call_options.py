"""The typed call keywords (W1): ``CallOptions`` / ``ChatOptions`` are the valid set at run time,
an unknown keyword is a ``ConfigurationError("unknown_option")`` before any I/O on every Layer C
function, the batch and the session surfaces; ``provider_options`` are checked, merged and scoped
before any I/O."""

from __future__ import annotations

import pickle
from collections.abc import Callable
from typing import Any

import anyio
import pytest
from hypothesis import given
from hypothesis import strategies as st

import allm
import allm.batch as batch
from allm.adapters.options import deep_merge, option_scopes, scoped_options
from allm.config import TRANSPORT_KEYS
from allm.errors import ConfigurationError, ValidationError
from allm.execution.options import (
    CALL_OPTION_KEYS,
    CHAT_OPTION_KEYS,
    TRANSPORT_OPTION_KEYS,
    option_keys,
)
from allm.execution.runner import ORCHESTRATION_KEYS, REQUEST_FIELD_KEYS, STREAM_KEYS
from allm.providers.fake import text
from allm.retry import NO_RETRY

HI = [allm.user("hi")]


def fake(record: list[Any] | None = None) -> allm.Engine:
    opts: dict[str, Any] = {"script": [text("ok")]}
    if record is not None:
        opts["record"] = record
    return allm.Engine(adapter="fake", model="m", adapter_opts=opts)


def _run_async(function: Callable[..., Any], *args: Any, **opts: Any) -> Any:
    async def go() -> Any:
        found = await function(*args, **opts)
        collect = getattr(found, "collect", None)
        return await collect() if collect is not None else found

    return anyio.run(go)


def _sync(function: Callable[..., Any]) -> Callable[..., Any]:
    def run(*args: Any, **opts: Any) -> Any:
        found = function(*args, **opts)
        collect = getattr(found, "collect", None)
        return collect() if collect is not None else found

    return run


def _async(function: Callable[..., Any]) -> Callable[..., Any]:
    return lambda *args, **opts: _run_async(function, *args, **opts)


CALL_FUNCTIONS = {
    "generate": _sync(allm.generate),
    "stream_generate": _sync(allm.stream_generate),
    "agenerate": _async(allm.agenerate),
    "astream_generate": _async(allm.astream_generate),
}
CHAT_FUNCTIONS = {
    "step": _sync(allm.step),
    "stream_step": _sync(allm.stream_step),
    "chat": _sync(allm.chat),
    "stream": _sync(allm.stream),
    "astep": _async(allm.astep),
    "astream_step": _async(allm.astream_step),
    "achat": _async(allm.achat),
    "astream": _async(allm.astream),
    "sessions.start": _sync(allm.sessions.start),
    "sessions.astart": _async(allm.sessions.astart),
}


# -- one source of truth ------------------------------------------------------------------------


def test_the_valid_keywords_are_the_typed_dicts_keys() -> None:
    assert option_keys(allm.CallOptions) == CALL_OPTION_KEYS
    assert CHAT_OPTION_KEYS == option_keys(allm.ChatOptions) > CALL_OPTION_KEYS
    assert TRANSPORT_KEYS | {"request_id", "api_key", "adapter_opts"} == TRANSPORT_OPTION_KEYS
    # every keyword the runner reads is declared
    assert REQUEST_FIELD_KEYS | STREAM_KEYS <= CALL_OPTION_KEYS
    assert ORCHESTRATION_KEYS <= CHAT_OPTION_KEYS - CALL_OPTION_KEYS
    assert {
        "reasoning",
        "prompt_cache",
        "provider_options",
        "retry",
        "logprobs",
    } <= CALL_OPTION_KEYS
    assert {"reasoning_effort", "reasoning_summary", "verbosity"} <= CALL_OPTION_KEYS


def test_the_cli_options_are_call_options() -> None:
    from allm.cli.calls import OPTION_TYPES

    assert set(OPTION_TYPES) <= CALL_OPTION_KEYS


# -- unknown keywords ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", [*CALL_FUNCTIONS, *CHAT_FUNCTIONS])
def test_an_unknown_keyword_raises_before_any_io_everywhere(name: str) -> None:
    function = {**CALL_FUNCTIONS, **CHAT_FUNCTIONS}[name]
    record: list[Any] = []
    with pytest.raises(ConfigurationError) as info:
        function(fake(record), HI, temprature=0.2, top_kk=3, zzz=1)
    assert info.value.reason == "unknown_option"
    assert list(info.value.problems[:3]) == [
        "unknown option 'temprature': did you mean 'temperature'?",
        "unknown option 'top_kk': did you mean 'top_p'?",
        "unknown option 'zzz'",
    ]
    assert "provider_options=" in info.value.problems[-1]
    assert record == []


@pytest.mark.parametrize("name", list(CALL_FUNCTIONS))
def test_the_chat_loop_keywords_are_not_call_options(name: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        CALL_FUNCTIONS[name](fake(), HI, max_turns=2, mode="manual")
    assert list(info.value.problems[:2]) == [
        "unknown option 'max_turns': a chat-loop option (allm.chat, allm.step)",
        "unknown option 'mode': a chat-loop option (allm.chat, allm.step)",
    ]


@pytest.mark.parametrize("name", list(CHAT_FUNCTIONS))
def test_the_chat_functions_take_every_call_option_they_share(name: str) -> None:
    record: list[Any] = []
    result = CHAT_FUNCTIONS[name](
        fake(record), HI, temperature=0.3, max_turns=2, seed=1, reasoning_effort="low"
    )
    assert result is not None
    request, call = record[0]
    assert (request.temperature, request.seed) == (0.3, 1)
    assert call.params == {"reasoning_effort": "low"}  # an alias: the wire reads it


def test_the_aliases_and_the_retry_keyword_reach_the_call() -> None:
    record: list[Any] = []
    allm.generate(
        fake(record), HI, reasoning_effort="high", verbosity="low", retry=False, logprobs=2
    )
    request, call = record[0]
    assert call.params == {"reasoning_effort": "high", "verbosity": "low"}
    assert request.logprobs == 2  # a neutral field, not a provider parameter
    assert call.retry == NO_RETRY


def test_the_batch_surface_checks_its_keywords_before_anything_is_sent() -> None:
    engine = allm.Engine(adapter="fake", model="m", adapter_opts={"scripts": [[text("ok")]]})
    requests = [allm.request(HI)]
    with pytest.raises(ConfigurationError) as info:
        batch.submit(engine, requests, temprature=0.1, display_nam="x")
    assert list(info.value.problems[:2]) == [
        "unknown option 'display_nam': did you mean 'display_name'?",
        "unknown option 'temprature': did you mean 'temperature'?",
    ]
    job = batch.submit(engine, requests, temperature=0.1, display_name="mine", max_requests=5)
    with pytest.raises(ConfigurationError) as control:
        batch.get(engine, job, temperature=0.1)
    assert control.value.problems[0] == "unknown option 'temperature'"
    with pytest.raises(ConfigurationError):
        batch.wait(engine, job, poll_interval=0, api_kye="k")
    assert batch.get(engine, job, request_id="r1").status == "completed"


def test_an_embeddings_batch_refuses_a_chat_keyword() -> None:
    engine = allm.Engine(embedding_model="openai:text-embedding-3-small")
    with pytest.raises(ConfigurationError) as info:
        batch.submit(engine, [allm.EmbeddingRequest(inputs=("a",))], temperature=0.1)
    assert info.value.reason == "unknown_option"


# -- provider_options: checked, merged, scoped ---------------------------------------------------


def test_a_provider_name_no_adapter_has_is_refused_with_the_closest() -> None:
    record: list[Any] = []
    engine = allm.Engine(
        adapter="fake",
        adapter_opts={"script": [text("ok")], "record": record},
        provider_options={"anthropc": {}},
    )
    request = allm.request(HI, provider_options={"gemeni": {"a": 1}})
    with pytest.raises(ConfigurationError) as info:
        allm.generate(engine, request, provider_options={"opanai": {"user": "u"}, "fake": {}})
    assert info.value.reason == "unknown_option"
    assert list(info.value.problems) == [
        "Engine.provider_options names no provider 'anthropc': did you mean 'anthropic'?",
        "Request.provider_options names no provider 'gemeni': did you mean 'gemini'?",
        "provider_options names no provider 'opanai': did you mean 'openai'?",
    ]
    assert record == []


def test_a_provider_options_value_that_is_not_a_mapping_of_mappings_is_refused() -> None:
    with pytest.raises(ConfigurationError) as info:
        allm.generate(fake(), HI, provider_options={"fake": 3, "nope": {}})  # type: ignore[dict-item]
    assert info.value.reason == "invalid_option"
    assert info.value.problems[0] == "provider_options['fake'] must be a dict, got 3"
    assert info.value.problems[1].startswith("provider_options names no provider 'nope'")
    with pytest.raises(ConfigurationError):
        allm.generate(fake(), HI, provider_options=["fake"])  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError):
        allm.Engine(adapter="fake", provider_options=[])  # type: ignore[arg-type]


def test_provider_options_must_be_json() -> None:
    with pytest.raises(ValidationError) as info:
        allm.generate(fake(), HI, provider_options={"fake": {"when": {1, 2}}})
    assert list(info.value.errors) == [(("provider_options", "fake", "when"), "not_json_encodable")]


def test_the_levels_deep_merge_call_over_request_over_engine_for_this_provider_only() -> None:
    record: list[Any] = []
    engine = allm.Engine(
        adapter="fake",
        adapter_opts={"script": [text("ok")], "record": record},
        provider_options={"fake": {"a": 1, "nest": {"x": 1, "y": 1}}, "openai": {"o": 1}},
    )
    request = allm.request(HI, provider_options={"fake": {"nest": {"y": 2, "z": 2}}})
    allm.generate(engine, request, provider_options={"fake": {"nest": {"z": 3}}})
    final, call = record[0]
    assert call.provider_options == {"a": 1, "nest": {"x": 1, "y": 2, "z": 3}}
    assert final.provider_options == {
        "fake": {"a": 1, "nest": {"x": 1, "y": 2, "z": 3}},
        "openai": {"o": 1},
    }
    assert call.params == {}


def test_each_adapter_reads_its_own_entry_and_a_preset_the_compatible_one_first() -> None:
    from allm.providers.azure import AzureOpenAI
    from allm.providers.mistral import Mistral
    from allm.providers.openai import OpenAI, OpenAICompatible
    from allm.providers.presets import PRESET_CLASSES
    from allm.providers.vertex import Vertex

    assert option_scopes(OpenAI()) == ("openai",)
    assert option_scopes(OpenAICompatible(base_url="http://127.0.0.1:9/v1")) == (
        "openai_compatible",
    )
    assert option_scopes(AzureOpenAI(resource="r")) == ("azure",)
    assert option_scopes(Mistral()) == ("mistral",)
    assert option_scopes(Vertex()) == ("vertex",)
    for name, preset in PRESET_CLASSES.items():
        assert option_scopes(preset()) == ("openai_compatible", name)
    groq = PRESET_CLASSES["groq"]()
    by_name = {
        "openai_compatible": {"a": 1, "b": {"x": 1}},
        "groq": {"b": {"y": 2}},
        "openai": {"c": 3},
    }
    assert scoped_options(groq, by_name) == {"a": 1, "b": {"x": 1, "y": 2}}


def test_provider_options_round_trip_on_the_request_and_the_engine() -> None:
    request = allm.request(HI, provider_options={"openai": {"service_tier": "flex"}})
    engine = allm.Engine(adapter="fake", provider_options={"anthropic": {"top_k": 3}})
    for value in (request, engine):
        assert allm.from_json(allm.to_json(value)) == value
        assert pickle.loads(pickle.dumps(value)) == value


# -- deep_merge ----------------------------------------------------------------------------------

LEAF = st.one_of(st.integers(), st.text(max_size=3), st.booleans())
TREE = st.recursive(
    st.dictionaries(st.sampled_from("abc"), LEAF, min_size=1, max_size=3),
    lambda inner: st.dictionaries(
        st.sampled_from("abc"), st.one_of(LEAF, inner), min_size=1, max_size=3
    ),
    max_leaves=10,
)


def _leaves(tree: Any, path: tuple[str, ...] = ()) -> dict[tuple[str, ...], Any]:
    if not isinstance(tree, dict) or not tree:
        return {path: tree}
    found: dict[tuple[str, ...], Any] = {}
    for key, value in tree.items():
        found.update(_leaves(value, (*path, key)))
    return found


@given(TREE, TREE)
def test_every_leaf_of_the_upper_level_wins_and_the_rest_of_the_lower_stays(
    base: dict[str, Any], over: dict[str, Any]
) -> None:
    merged = deep_merge(base, over)
    leaves = _leaves(merged)
    for path, value in _leaves(over).items():
        if path:
            assert leaves[path] == value
    assert deep_merge(merged, over) == merged  # applying a level twice changes nothing
    assert deep_merge(base, {}) == base and deep_merge({}, over) == over
    for path, value in _leaves(base).items():  # what the upper level does not touch stays
        if path and not any(path[: len(p)] == p or p[: len(path)] == path for p in _leaves(over)):
            assert leaves[path] == value


def test_none_removes_a_field_only_where_a_fragment_lands_in_a_body() -> None:
    body = {"a": 1, "b": {"x": 1, "y": 2}}
    assert deep_merge(body, {"a": None, "b": {"y": None, "z": 3}}, none_removes=True) == {
        "b": {"x": 1, "z": 3}
    }
    assert deep_merge(body, {"c": {"d": None, "e": 1}}, none_removes=True)["c"] == {"e": 1}
    assert deep_merge(body, {"a": None}) == {"a": None, "b": {"x": 1, "y": 2}}
    assert body == {"a": 1, "b": {"x": 1, "y": 2}}  # never changed in place
