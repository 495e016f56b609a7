"""``allm.testing.override`` and ``allm.testing.capture``."""

from __future__ import annotations

import threading
from typing import Any

import anyio
import pytest

import allm
import allm.testing
from allm.data.embeddings import EmbeddingRequest
from allm.data.moderation import ModerationRequest
from allm.providers.fake import finish, text, tool_call
from allm.providers.fake_embeddings import FakeEmbeddings
from allm.providers.fake_images import ok as image_ok
from allm.providers.fake_images import png


def production_engine() -> allm.Engine:
    """What code under test builds: real providers, no keys."""
    return allm.Engine(
        model="openai:gpt-4o",
        embedding_model="openai:text-embedding-3-small",
        moderation_adapter="openai_moderation",
        image_adapter="openai_images",
    )


def test_override_with_an_engine_replaces_every_surface() -> None:
    fake = allm.Engine(
        adapter="fake",
        adapter_opts={
            "scripts": [[text("hello")], [text("again"), finish("stop")]],
            "image_script": [image_ok(allm.ImagePart.from_bytes(png(), "image/png"))],
        },
        embedding_adapter="fake_embeddings",
        moderation_adapter="fake_moderation",
        image_adapter="fake_images",
    )
    code = production_engine()
    with allm.testing.override(fake), allm.testing.capture() as captured:
        assert allm.generate(code, [allm.user("hi")]).text == "hello"
        assert allm.chat(code, [allm.user("hi")]).final_response.text == "again"
        assert len(allm.embed(code, ["a", "b"]).vectors) == 2
        assert not allm.moderate(code, "fine").flagged
        assert len(allm.generate_image(code, "a cat").images) == 1
    kinds = [type(request).__name__ for request in captured.requests]
    assert kinds == ["Request", "Request", "EmbeddingRequest", "ModerationRequest", "ImageRequest"]
    with pytest.raises(allm.EngineError):  # outside the block, the real engine needs a key
        allm.embed(code, "x")


def test_override_with_an_adapter_replaces_only_its_slot() -> None:
    code = production_engine()
    with allm.testing.override("fake_embeddings"), allm.testing.capture() as captured:
        response = allm.embed(code, ["a", "b", "c"], batch_size=2)
        with pytest.raises(allm.EngineError):  # moderation still the real one: no key
            allm.moderate(code, "x")
    assert response.model == "text-embedding-3-small"
    assert [r.inputs for r in captured.requests] == [("a", "b"), ("c",)]
    assert all(isinstance(r, EmbeddingRequest) for r in captured.requests)
    with allm.testing.override(FakeEmbeddings()), allm.testing.override("fake_moderation"):
        assert allm.moderate(code, "flagme").flagged
        assert allm.embed(code, "x").vector


def test_override_as_a_decorator_of_plain_and_async_functions() -> None:
    fake = allm.Engine(adapter="fake", adapter_opts={"scripts": [[text("decorated")]] * 2})

    @allm.testing.override(fake)
    def plain() -> str | None:
        return allm.generate(production_engine(), [allm.user("x")]).text

    @allm.testing.override(fake)
    async def asynchronous() -> str | None:
        response = await allm.agenerate(production_engine(), [allm.user("x")])
        return response.text

    assert plain() == "decorated"
    assert anyio.run(asynchronous) == "decorated"
    assert plain.__name__ == "plain"


def test_override_holds_in_its_own_thread_only() -> None:
    fake = allm.Engine(embedding_adapter="fake_embeddings")
    outside: list[Any] = []

    def elsewhere() -> None:
        try:
            allm.embed(production_engine(), "x")
        except allm.EngineError as exc:
            outside.append(exc.reason)

    with allm.testing.override(fake):
        worker = threading.Thread(target=elsewhere)
        worker.start()
        worker.join()
        assert allm.embed(production_engine(), "x").vector
    assert outside == ["missing_key"]


def test_override_refuses_nothing() -> None:
    with pytest.raises(TypeError):
        allm.testing.override(None)


def test_capture_sees_every_chat_turn_in_order_and_nests() -> None:
    weather = allm.Tool(
        "weather", "Weather.", {"type": "object"}, handler=lambda arguments: {"t": 20}
    )
    engine = allm.Engine(
        adapter="fake",
        tools=(weather,),
        adapter_opts={
            "scripts": [
                [tool_call(id="1", name="weather", arguments={}), finish("tool_calls")],
                [text("done"), finish("stop")],
            ]
        },
    )
    with allm.testing.capture() as outer:
        with allm.testing.capture() as inner:
            allm.chat(engine, [allm.user("weather?")])
        allm.moderate(allm.Engine(moderation_adapter="fake_moderation"), "x")
    assert len(inner.requests) == 2
    assert [m.role for m in inner.requests[1].messages] == ["user", "assistant", "tool"]
    assert len(outer.requests) == 3 and isinstance(outer.requests[2], ModerationRequest)
    outer.__exit__(None, None, None)  # a second exit is harmless
