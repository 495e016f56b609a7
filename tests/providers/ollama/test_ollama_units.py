"""Ollama pieces: the NDJSON line splitter (chunking-invariant), OLLAMA_HOST, the request body
(options, think, format, tools, images, tool results by name), and the optional bearer key."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

import allm
from allm.adapters import Call
from allm.adapters.ndjson import NDJSONDecoder
from allm.data.messages import ImagePart, Message, Role
from allm.errors import ConfigurationError, ValidationError
from allm.providers.ollama import Ollama, host_url
from allm.providers.ollama.decode import finish_reason_for

WEATHER = allm.Tool("weather", "Weather.", {"type": "object", "properties": {}})
LINES = st.lists(
    st.one_of(
        st.dictionaries(st.text(max_size=5), st.text(max_size=8), max_size=3),
        st.just({"message": {"content": "héllo ✓"}}),
    ),
    max_size=6,
)


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    pieces, start = [], 0
    for cut in sorted({c for c in cuts if 0 < c < len(data)}):
        pieces.append(data[start:cut])
        start = cut
    return [*pieces, data[start:]]


@given(LINES, st.lists(st.integers(0, 400), max_size=8), st.booleans(), st.booleans())
def test_ndjson_lines_do_not_depend_on_how_the_body_is_cut(
    objects: list[dict[str, Any]], cuts: list[int], crlf: bool, final_newline: bool
) -> None:
    end = b"\r\n" if crlf else b"\n"
    data = end.join(json.dumps(o, ensure_ascii=False).encode() for o in objects)
    if objects and final_newline:
        data += end + end  # a blank line too
    decoder = NDJSONDecoder()
    seen = [e.data for piece in split(data, cuts) for e in decoder.feed(piece)]
    seen += [e.data for e in decoder.finish()]
    assert [json.loads(line) for line in seen] == objects


def test_an_overlong_line_stops_the_splitter_and_keeps_what_came() -> None:
    decoder = NDJSONDecoder(16)
    assert [e.data for e in decoder.feed(b'{"a": 1}\n' + b"x" * 10)] == ['{"a": 1}']
    assert decoder.feed(b"y" * 10) == [] and decoder.error is not None
    assert decoder.feed(b"\n{}\n") == [] and decoder.finish() == []
    whole = NDJSONDecoder(4)
    assert whole.feed(b"123456\n") == [] and whole.error is not None


@pytest.mark.parametrize(
    ("value", "url"),
    [
        ("", "http://localhost:11434"),
        ("0.0.0.0", "http://0.0.0.0:11434"),
        ("gpu-box", "http://gpu-box:11434"),
        ("gpu-box:8080", "http://gpu-box:8080"),
        ("http://gpu-box", "http://gpu-box:11434"),
        ("https://ollama.example.com/", "https://ollama.example.com"),
        ("https://ollama.example.com:8443/base", "https://ollama.example.com:8443/base"),
        ("[::1]:11435", "http://[::1]:11435"),
    ],
)
def test_ollama_host_is_read_as_ollama_reads_it(value: str, url: str) -> None:
    assert host_url(value) == url


@pytest.mark.parametrize("value", ["ftp://x", "https://:8443", "host:notaport"])
def test_a_host_that_is_no_url_is_refused(value: str) -> None:
    with pytest.raises(ConfigurationError):
        host_url(value)


def built(request: allm.Request, stream: bool = True, **params: Any) -> tuple[str, Any, Any]:
    c = Call(request_id="r", engine=allm.Engine(), params=params)
    adapter = Ollama()
    adapter.check(request, c)
    out = adapter.build_request(request, c, stream=stream)
    return out.url, dict(out.headers), json.loads(out.body)


def test_the_body(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OLLAMA_API_KEY", raising=False)
    monkeypatch.setenv("OLLAMA_HOST", "gpu-box")
    image = ImagePart.from_bytes(b"\x89PNG-bytes", "image/png")
    call = allm.ToolCall("call_1", "weather", {"city": "Oslo"})
    messages = [
        allm.system("be brief"),
        allm.user([allm.TextPart("what is this?"), image]),
        Message(Role.ASSISTANT, "", tool_calls=(call,)),
        allm.tool_result("call_1", "sunny"),
    ]
    request = allm.request(
        messages,
        model="llama3.2",
        tools=[WEATHER],
        temperature=0.1,
        top_p=0.9,
        stop=["END"],
        max_tokens=9,
        options={"keep_alive": "5m", "options": {"num_ctx": 8192, "temperature": 1.0}},
    )
    url, headers, sent = built(request, think="low")
    assert url == "http://gpu-box:11434/api/chat" and "authorization" not in headers
    assert sent["options"] == {
        "num_ctx": 8192,
        "temperature": 0.1,
        "top_p": 0.9,
        "stop": ["END"],
        "num_predict": 9,
    }
    assert sent["keep_alive"] == "5m" and sent["think"] == "low" and sent["stream"] is True
    assert sent["messages"][1]["images"] == [base64.b64encode(b"\x89PNG-bytes").decode()]
    assert sent["messages"][2]["tool_calls"] == [
        {"function": {"name": "weather", "arguments": {"city": "Oslo"}}}
    ]
    assert sent["messages"][3] == {"role": "tool", "content": "sunny", "tool_name": "weather"}
    assert sent["tools"][0]["function"]["name"] == "weather"


def test_choices_without_an_ollama_field() -> None:
    none = allm.request([allm.user("hi")], model="m", tools=[WEATHER], tool_choice="none")
    assert "tools" not in built(none)[2]
    forced = allm.request([allm.user("hi")], model="m", tools=[WEATHER], tool_choice="required")
    with pytest.raises(ValidationError) as info:  # /api/chat cannot force a call
        built(forced)
    assert info.value.errors == ((("tool_choice",), "unsupported_option"),)
    plain = allm.request([allm.user("hi")], model="m", response_format={"type": "json_object"})
    _, _, sent = built(plain, stream=False, reasoning_effort="none")
    assert sent["format"] == "json" and sent["think"] is False and sent["stream"] is False
    text = allm.request([allm.user("hi")], model="m", response_format={"type": "text"})
    assert "format" not in built(text, reasoning_effort="medium")[2]


def test_an_image_by_url_is_refused_before_any_io() -> None:
    request = allm.request(
        [allm.user([allm.TextPart("x"), ImagePart.from_url("https://e.x/a.png")])], model="m"
    )
    with pytest.raises(ValidationError) as info:
        built(request)
    assert (("messages", 0, "content", 1), "unsupported_image_source") in info.value.errors


def test_a_key_when_set_is_a_bearer(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OLLAMA_API_KEY", "ollama-proxy-key")
    assert built(allm.request([allm.user("hi")], model="m"))[1]["authorization"] == (
        "Bearer ollama-proxy-key"
    )


def test_finish_reasons() -> None:
    assert finish_reason_for("unload", tool_calls=False) == "stop"
    assert finish_reason_for("weird", tool_calls=False) == "other"


def serve(payload: bytes, content_type: str = "application/x-ndjson") -> allm.Engine:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-type": content_type}, content=payload)

    return allm.Engine(
        adapter=Ollama(),
        model="llama3.2",
        retry=False,
        adapter_opts={"http_client": httpx.Client(transport=httpx.MockTransport(answer))},
    )


@pytest.mark.parametrize(
    ("payload", "content_type", "reason"),
    [
        (b"not json\n", "application/x-ndjson", "malformed_response"),
        (b"[1, 2]\n", "application/x-ndjson", "malformed_response"),
        (b"", "application/x-ndjson", "malformed_response"),
        (b'{"message": {"content": "a"}, "done": false}', "application/json", "network_error"),
        (b'{"message": {"content": "a"}}\n{"done": true}\n', "application/json", None),
        (b'{"message": {"content": "a"}}\n', "application/json", "network_error"),
        (b"<<<", "application/json", "malformed_response"),
        (b'{"error": {"message": "boom"}}\n', "application/x-ndjson", "provider_unavailable"),
    ],
)
def test_bodies_that_are_not_a_finished_stream(
    payload: bytes, content_type: str, reason: str | None
) -> None:
    response = allm.generate(serve(payload, content_type), [allm.user("hi")])
    error = response.metadata.get("error")
    assert (error.reason if error else None) == reason


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"[]", "malformed_response"),
        (b'{"message": {"content": "a"}}', "malformed_response"),
        (b'{"error": "model is loading"}', "provider_unavailable"),
    ],
)
def test_whole_answers_that_are_not_answers(payload: bytes, reason: str) -> None:
    response = allm.generate(serve(payload, "application/json"), [allm.user("hi")], streaming=False)
    assert response.metadata["error"].reason == reason


def test_an_empty_tool_call_is_no_call_and_a_given_id_is_kept() -> None:
    line = {
        "message": {
            "content": "",
            "tool_calls": [
                {"function": {"name": "", "arguments": {}}},
                {"id": "call_given", "function": {"name": "weather", "arguments": '{"a": 1}'}},
            ],
        },
        "done": True,
        "done_reason": "stop",
    }
    response = allm.generate(serve(json.dumps(line).encode() + b"\n"), [allm.user("hi")])
    assert [(c.id, c.arguments) for c in response.tool_calls] == [("call_given", {"a": 1})]
