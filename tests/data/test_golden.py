"""Golden JSON documents: version-1 files written by ``allm.to_json`` must keep loading.

Each file in ``golden/`` was produced from the value built below. A change that makes a file load
differently breaks data users have persisted (sessions above all), so it needs a new schema
version, not a new golden file. Adding a field is allowed: an old file simply lacks it.

To write a file for a new case: ``python tests/data/test_golden.py``, which never overwrites one.
"""

from __future__ import annotations

import json
import pathlib
from typing import Any

import pytest

import allm
from allm import codec
from allm.data import (
    ChatResult,
    FinishReason,
    Image,
    ImagePart,
    ImageResponse,
    ImageUsage,
    Message,
    Response,
    Session,
    SessionStatus,
    StepResult,
    Thread,
    ToolCall,
    Usage,
)
from allm.errors import RateLimitError

GOLDEN = pathlib.Path(__file__).parent / "golden"

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
WEATHER_CALL = ToolCall(
    "call_1", "get_weather", {"city": "Paris"}, '{"city":"Paris"}', {"thoughtSignature": "c2ln"}
)


def session_awaiting_tools() -> Session:
    """A manual-mode session stopped on a tool call, with one tool already answered."""
    earlier = ToolCall("call_0", "get_time", {}, "{}")
    thread = Thread(
        (
            allm.system("You are terse."),
            allm.user("Time and weather in Paris?"),
            Message(
                "assistant",
                "",
                tool_calls=(earlier,),
                metadata={"finish_reason": "tool_calls", "tool_calls": [earlier]},
            ),
            allm.tool_result("call_0", {"time": "12:00"}),
            Message("assistant", "", tool_calls=(WEATHER_CALL,)),
        ),
        {"title": "paris"},
    )
    return Session(
        id="sess_1",
        thread=thread,
        status=SessionStatus.AWAITING_TOOLS,
        pending_tool_calls=(WEATHER_CALL,),
        context={"user_id": 42, "tags": ("a", "b")},
        metadata={"mode": "manual"},
    )


def response_with_error() -> Response:
    """A response folded from a stream that failed after some text."""
    error = RateLimitError(
        provider="openai",
        status=429,
        retry_after_ms=1500,
        request_id="req_9",
        metadata={"body": {"error": {"type": "rate_limit"}}},
    )
    return Response(
        request_id="r_1",
        message=allm.assistant("Partial ans"),
        output_text="Partial ans",
        finish_reason=FinishReason.ERROR,
        usage=Usage(input_tokens=12, output_tokens=3, total_tokens=15, extra={"x": 1}),
        metadata={"error": error},
        reasoning="thinking...",
    )


def chat_with_image() -> ChatResult:
    """A finished chat whose user turn had an image, and an image generation result."""
    image = Image.from_bytes(PNG, "image/png")
    response = Response(output_text="A cat.", finish_reason="stop")
    thread = Thread(
        (
            allm.user([allm.TextPart("What is this?"), ImagePart(image, "low")]),
            allm.assistant("A cat."),
        )
    )
    step = StepResult(thread, response, done=True)
    generated = ImageResponse(
        images=(ImagePart(Image.from_url("https://example.com/out.png")),),
        usage=ImageUsage(images=1, size="1024x1024"),
        model="gpt-image-1",
    )
    return ChatResult(thread, response, (step,), metadata={"generated": generated})


CASES = {
    "session_awaiting_tools": session_awaiting_tools,
    "response_with_error": response_with_error,
    "chat_with_image": chat_with_image,
}


def _assert_still_written(golden: Any, current: Any, where: str = "") -> None:
    """Everything in ``golden`` is still written the same way (new fields may be added)."""
    if isinstance(golden, dict):
        assert isinstance(current, dict), where
        for key, value in golden.items():
            assert key in current, f"{where}.{key} is no longer written"
            _assert_still_written(value, current[key], f"{where}.{key}")
    elif isinstance(golden, list):
        assert isinstance(current, list), where
        assert len(golden) == len(current), where
        for index, (old, new) in enumerate(zip(golden, current, strict=True)):
            _assert_still_written(old, new, f"{where}[{index}]")
    else:
        assert golden == current, where


@pytest.mark.parametrize("name", sorted(CASES))
def test_f093_golden_files_still_load_to_the_same_value(name):
    text = (GOLDEN / f"{name}.json").read_text(encoding="utf-8")

    assert allm.from_json(text) == CASES[name]()


@pytest.mark.parametrize("name", sorted(CASES))
def test_f093_golden_files_are_still_written_the_same_way(name):
    golden = json.loads((GOLDEN / f"{name}.json").read_text(encoding="utf-8"))

    assert golden["v"] == codec.SCHEMA_VERSION == 1
    _assert_still_written(golden, json.loads(allm.to_json(CASES[name]())))


def test_golden_session_keeps_tool_call_history_typed():
    session = allm.from_json((GOLDEN / "session_awaiting_tools.json").read_text("utf-8"))

    assert session.status is SessionStatus.AWAITING_TOOLS
    assert session.pending_tool_calls == (WEATHER_CALL,)
    assert session.thread.messages[2].tool_calls[0] == ToolCall("call_0", "get_time", {}, "{}")
    assert session.thread.messages[2].metadata["tool_calls"][0].name == "get_time"
    assert session.context["tags"] == ("a", "b")
    assert allm.validate.session(session) is None


def test_golden_response_keeps_its_error_subclass():
    response = allm.from_json((GOLDEN / "response_with_error.json").read_text("utf-8"))

    assert type(response.error) is RateLimitError
    assert response.error.retry_after_ms == 1500
    assert response.finish_reason is FinishReason.ERROR


def test_golden_image_bytes_come_back_as_bytes():
    chat = allm.from_json((GOLDEN / "chat_with_image.json").read_text("utf-8"))

    part = chat.thread.messages[0].content[1]
    assert part.image.to_bytes() == PNG
    assert chat.metadata["generated"].images[0].image.source.type == "url"


def _write_missing() -> None:  # pragma: no cover - a maintenance script, not a test
    GOLDEN.mkdir(exist_ok=True)
    for name, build in CASES.items():
        path = GOLDEN / f"{name}.json"
        if path.exists():
            print(f"kept {path}")
            continue
        text = json.dumps(json.loads(allm.to_json(build())), indent=2, ensure_ascii=False)
        path.write_text(text + "\n", encoding="utf-8")
        print(f"wrote {path}")


if __name__ == "__main__":  # pragma: no cover
    _write_missing()
