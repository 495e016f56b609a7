"""The embedding and moderation conformance kits bound to every adapter: the Fakes from their
scripts, the HTTP adapters from the recorded transcripts."""

from __future__ import annotations

from typing import Any

from tests.surfaces.test_transcripts import Transcript

import allm
from allm.providers.fake_embeddings import error as embed_error
from allm.providers.fake_embeddings import fake_vector
from allm.providers.fake_moderation import error as moderation_error
from allm.testing.conformance import (
    EMBEDDING_CASES,
    MODERATION_CASES,
    EmbeddingConformance,
    ModerationConformance,
    SurfaceScenario,
)


def test_the_kits_are_numbered_and_complete() -> None:
    assert EmbeddingConformance.case_count() == len(EMBEDDING_CASES) == 8
    assert ModerationConformance.case_count() == len(MODERATION_CASES) == 6
    embedding_tests = [n for n in dir(EmbeddingConformance) if n.startswith("test_e")]
    assert sorted(int(n[6:9]) for n in embedding_tests) == sorted(EMBEDDING_CASES)
    moderation_tests = [n for n in dir(ModerationConformance) if n.startswith("test_m")]
    assert sorted(int(n[6:9]) for n in moderation_tests) == sorted(MODERATION_CASES)


class TestFakeEmbeddingsConformance(EmbeddingConformance):
    def scenario(self, name: str) -> SurfaceScenario | None:
        seen: list[Any] = []
        opts: dict[str, Any] = {"embedding_record": seen}
        if name == "refused":
            opts["embedding_script"] = [embed_error("rate_limited")]
            engine = allm.Engine(
                embedding_adapter="fake_embeddings", adapter_opts=opts, retry=False
            )
            return SurfaceScenario(engine, "x", expect_reason="rate_limited")
        engine = allm.Engine(embedding_adapter="fake_embeddings", adapter_opts=opts)
        salt = "fake-embedding|None"
        texts = {"batch": ["a", "b", "c"], "single": "solo", "split": ["p", "q", "r", "s", "t"]}
        inputs = texts[name]
        listed = [inputs] if isinstance(inputs, str) else inputs
        call = {"batch_size": 2} if name == "split" else {}
        return SurfaceScenario(
            engine,
            inputs,
            call,
            expect=[fake_vector(text, 8, salt) for text in listed],
            sent=lambda: [request.inputs for request, _ in seen],
        )


class _TranscriptEmbeddings(EmbeddingConformance):
    adapter = ""
    single = ("rate_limited_then_ok", 1)

    def scenario(self, name: str) -> SurfaceScenario | None:
        case, skip = {
            "batch": ("success", 0),
            "single": self.single,
            "split": ("batch_split", 0),
            "refused": ("error_400", 0),
        }[name]
        transcript = Transcript(self.adapter, case, skip)
        call = transcript.data["call"]
        opts = {**call["opts"], "api_key": "sk-kit"}
        inputs = call["inputs"][0] if name == "single" else call["inputs"]
        expect = transcript.data["expect"]
        return SurfaceScenario(
            transcript.engine(retry=False),
            inputs,
            opts,
            expect=expect.get("vectors"),
            expect_reason=expect.get("error", {}).get("reason"),
            expect_requests=expect["requests"],
            sent=transcript.wire,
        )


class TestOpenAIEmbeddingsConformance(_TranscriptEmbeddings):
    adapter = "openai_embeddings"


class TestOpenAICompatibleEmbeddingsConformance(_TranscriptEmbeddings):
    adapter = "openai_compatible_embeddings"


class TestGeminiEmbeddingsConformance(_TranscriptEmbeddings):
    adapter = "gemini_embeddings"


class TestFakeModerationConformance(ModerationConformance):
    def scenario(self, name: str) -> SurfaceScenario | None:
        seen: list[Any] = []
        opts: dict[str, Any] = {"moderation_record": seen}
        if name == "refused":
            opts["moderation_script"] = [moderation_error("content_filter")]
            engine = allm.Engine(moderation_adapter="fake_moderation", adapter_opts=opts)
            return SurfaceScenario(engine, "x", expect_reason="content_filter")
        engine = allm.Engine(moderation_adapter="fake_moderation", adapter_opts=opts)
        return SurfaceScenario(
            engine,
            ["fine", "flagme please", "ok"],
            expect=[False, True, False],
            sent=lambda: [request.inputs for request, _ in seen],
        )


class TestOpenAIModerationConformance(ModerationConformance):
    def scenario(self, name: str) -> SurfaceScenario | None:
        transcript = Transcript("openai_moderation", "success" if name == "batch" else "error_400")
        call = transcript.data["call"]
        expect = transcript.data["expect"]
        return SurfaceScenario(
            transcript.engine(retry=False),
            call["inputs"],
            {**call["opts"], "api_key": "sk-kit"},
            expect=expect.get("flagged"),
            expect_reason=expect.get("error", {}).get("reason"),
            sent=transcript.wire,
        )
