"""Laws of the history reducers, for any conversation: system messages stay, a tool call and
its results stay together, the budget holds, the newest messages are the ones kept."""

from __future__ import annotations

import pickle
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

import allm
from allm import history
from allm.history import estimate_tokens, groups

_text = st.text(alphabet="abc xyz", min_size=0, max_size=120)


@st.composite
def conversations(draw: Any) -> list[allm.Message]:
    messages: list[allm.Message] = [
        allm.system(draw(_text)) for _ in range(draw(st.integers(0, 2)))
    ]
    for index in range(draw(st.integers(0, 12))):
        kind = draw(st.sampled_from(["user", "assistant", "tools", "system"]))
        if kind == "user":
            messages.append(allm.user(draw(_text)))
        elif kind == "assistant":
            messages.append(allm.assistant(draw(_text)))
        elif kind == "system":
            messages.append(allm.system(draw(_text)))
        else:
            count = draw(st.integers(1, 3))
            calls = tuple(
                allm.ToolCall(f"c{index}-{n}", "lookup", {"q": draw(_text)}, None)
                for n in range(count)
            )
            messages.append(allm.Message("assistant", "", tool_calls=calls))
            messages.extend(allm.tool_result(call.id, draw(_text)) for call in calls)
    return messages


def _is_subsequence(kept: tuple[allm.Message, ...], original: list[allm.Message]) -> bool:
    position = 0
    for message in kept:
        while position < len(original) and original[position] is not message:
            position += 1
        if position == len(original):
            return False
        position += 1
    return True


def _tool_pairs_whole(kept: tuple[allm.Message, ...]) -> bool:
    asked = {call.id for m in kept for call in m.tool_calls}
    answered = {m.tool_call_id for m in kept if m.role == "tool"}
    return asked == answered


def _newest_units_kept(kept: tuple[allm.Message, ...], original: list[allm.Message]) -> bool:
    kept_ids = {id(m) for m in kept}
    flags = [all(id(original[i]) in kept_ids for i in unit) for unit in groups(original)]
    partial = [
        any(id(original[i]) in kept_ids for i in unit)
        and not all(id(original[i]) in kept_ids for i in unit)
        for unit in groups(original)
    ]
    # whole units only, and once a unit is kept every newer one is kept too
    return not any(partial) and flags == sorted(flags)


@given(conversations(), st.integers(1, 400))
def test_token_budget_laws(messages: list[allm.Message], budget: int) -> None:
    kept = history.token_budget(budget).reduce(messages)
    systems = [m for m in messages if m.role == "system"]
    assert [m for m in kept if m.role == "system"] == systems  # never drops the system prompt
    assert _is_subsequence(kept, messages)
    assert _tool_pairs_whole(kept)  # never splits a tool call from its result
    assert _newest_units_kept(kept, messages)
    system_cost = sum(estimate_tokens(m) for m in systems)
    if system_cost <= budget:
        assert sum(estimate_tokens(m) for m in kept) <= budget  # stays within budget
    else:
        assert list(kept) == systems


@given(conversations(), st.integers(0, 8))
def test_keep_last_laws(messages: list[allm.Message], n: int) -> None:
    kept = history.keep_last(n).reduce(messages)
    systems = [m for m in messages if m.role == "system"]
    others = [m for m in kept if m.role != "system"]
    assert [m for m in kept if m.role == "system"] == systems
    assert _is_subsequence(kept, messages)
    assert _tool_pairs_whole(kept)
    assert _newest_units_kept(kept, messages)
    total = sum(1 for m in messages if m.role != "system")
    assert len(others) >= min(n, total)  # at least the last n (whole exchanges may add some)


@given(conversations())
def test_a_budget_that_fits_everything_keeps_everything(messages: list[allm.Message]) -> None:
    everything = sum(estimate_tokens(m) for m in messages)
    assert history.token_budget(everything + 1).reduce(messages) == tuple(messages)


def test_a_custom_counter_and_the_reducers_round_trip() -> None:
    reducer = history.token_budget(3, counter=lambda message: 1)
    thread = [allm.system("s"), allm.user("a"), allm.user("b"), allm.user("c")]
    assert [m.content for m in reducer.reduce(thread)] == ["s", "b", "c"]
    image = allm.user([allm.TextPart("see"), allm.ImagePart.from_url("https://x.test/i.png")])
    assert estimate_tokens(image) > estimate_tokens(allm.user("see"))
    for value in (history.keep_last(2), history.token_budget(100)):
        assert allm.from_json(allm.to_json(value)) == value
        assert pickle.loads(pickle.dumps(value)) == value
    summary = history.summarize(allm.Engine(adapter="fake"), when_over_tokens=50)
    assert allm.from_json(allm.to_json(summary)).when_over_tokens == 50
    assert summary.reduce(thread) == tuple(thread)
    context = allm.StepContext(1, allm.Thread(tuple(thread)))
    overrides = allm.StepOverrides(model="m", messages=[allm.user("x")])
    for value in (context, overrides):
        assert allm.from_json(allm.to_json(value)) == value
        assert pickle.loads(pickle.dumps(value)) == value
