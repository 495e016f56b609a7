"""The Azure OpenAI, Mistral and Ollama transcripts (tests/fixtures/wire/<provider>/, composed
by tests/providers/<provider>/compose_<provider>.py): streamed whole, byte by byte and cut at a
few places, answered whole, generate == the fold of the stream; the conformance kit bound to
each provider's transcripts."""

from __future__ import annotations

from typing import Any

import pytest
from tests.providers.conformance import Transcripts
from tests.providers.recorded import (
    assert_matches,
    cases_of,
    fold_matches_generate,
    replay_streamed,
    replay_whole,
)
from tests.providers.wire import load

from allm.providers.azure import AzureOpenAI
from allm.providers.mistral import Mistral
from allm.providers.ollama import Ollama
from allm.testing.conformance import AdapterConformance

DOC_HOSTS = {"azure": "learn.microsoft.com", "mistral": "docs.mistral.ai", "ollama": "ollama"}
CASES = [(provider, name) for provider in DOC_HOSTS for name in cases_of(provider)]
STREAMED = [(p, n) for p, n in CASES if load(p, n).expect["stream"]]
WHOLE = [(p, n) for p, n in CASES if not load(p, n).expect["stream"]]


@pytest.mark.parametrize("provider", sorted(DOC_HOSTS))
def test_there_are_enough_transcripts_of_both_kinds(provider: str) -> None:
    names = cases_of(provider)
    assert len(names) >= 12
    assert sum(not load(provider, n).expect["stream"] for n in names) >= 4
    for name in names:
        assert DOC_HOSTS[provider] in load(provider, name).expect["notes"][0], name


@pytest.mark.parametrize(("provider", "name"), STREAMED)
@pytest.mark.parametrize("how", ["whole", "bytewise", [5, 64, 65, 300]])
def test_transcript_streamed(provider: str, name: str, how: object) -> None:
    case = load(provider, name)
    assert_matches(case, replay_streamed(case, how))


@pytest.mark.parametrize(("provider", "name"), WHOLE)
def test_transcript_not_streamed(provider: str, name: str) -> None:
    case = load(provider, name)
    assert_matches(case, replay_whole(case))


@pytest.mark.parametrize(("provider", "name"), STREAMED)
def test_generate_is_the_fold_of_the_stream(provider: str, name: str) -> None:
    fold_matches_generate(load(provider, name))


def _conformance(provider: str, adapter: type, model: str, **overrides: Any) -> type:
    names = {
        "text": "text_stream",
        "tool_call": "tool_call_stream",
        "rate_limited": "error_429",
        "mid_stream": "stream_error",
        "truncated": "stream_truncated",
        **overrides.pop("names", {}),
    }
    return type(
        f"Test{adapter.__name__}Conformance",
        (Transcripts, AdapterConformance),
        {
            "directory": provider,
            "model": model,
            "make_adapter": adapter,
            "names": names,
            "adapter_opts": overrides.pop("adapter_opts", {}),
            "__module__": __name__,
        },
    )


TestAzureOpenAIConformance = _conformance(
    "azure", AzureOpenAI, "gpt-4o-prod", adapter_opts={"resource": "contoso"}
)
TestMistralConformance = _conformance(
    "mistral", Mistral, "mistral-small-latest", names={"mid_stream": "finish_error_stream"}
)
TestOllamaConformance = _conformance("ollama", Ollama, "llama3.2")
