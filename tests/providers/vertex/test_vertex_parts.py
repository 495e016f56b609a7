"""Documents, audio and provider tools on Vertex AI: Gemini models take Gemini's spelling
(https://cloud.google.com/vertex-ai/generative-ai/docs/reference/rest/v1/Content), without the
Gemini API's file search stores; Claude models take Anthropic's, and web search goes with the
beta header Vertex asks for
(https://cloud.google.com/vertex-ai/generative-ai/docs/partner-models/claude/web-search)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

import allm
from allm import provider_tools
from allm.errors import ValidationError
from allm.providers.vertex import Vertex

from .support import PROJECT, credentials

PDF = b"%PDF-1.4 tiny"
WAV = b"RIFF....WAVEfmt "
GEMINI_OK = {"candidates": [{"content": {"parts": [{"text": "ok"}]}, "finishReason": "STOP"}]}
CLAUDE_OK = {
    "type": "message",
    "content": [{"type": "text", "text": "ok"}],
    "stop_reason": "end_turn",
}


class Probe:
    """A Vertex engine with fixed credentials on a mock transport that records each request."""

    def __init__(self, model: str) -> None:
        self.sent: list[httpx.Request] = []
        answer = CLAUDE_OK if model.startswith("claude") else GEMINI_OK

        def handle(request: httpx.Request) -> httpx.Response:
            self.sent.append(request)
            return httpx.Response(200, json=answer)

        self.engine = allm.Engine(
            adapter=Vertex(),
            model=model,
            adapter_opts={
                "http_client": httpx.Client(transport=httpx.MockTransport(handle)),
                "credentials": credentials(),
                "project": PROJECT,
                "location": "us-east5",
            },
            retry=False,
        )

    def send(self, content: Any, **opts: Any) -> dict[str, Any]:
        response = allm.generate(self.engine, [allm.user(content)], streaming=False, **opts)
        assert response.text == "ok", response.error
        return dict(json.loads(self.sent[-1].content))


def test_gemini_on_vertex_sends_documents_and_audio_as_inline_and_file_data() -> None:
    body = Probe("gemini-2.5-flash").send(
        [
            allm.TextPart("listen and read"),
            allm.DocumentPart.from_bytes(PDF, "application/pdf"),
            allm.DocumentPart.from_url("gs://bucket/report.pdf", "application/pdf"),
            allm.AudioPart.from_bytes(WAV, "audio/wav"),
        ]
    )
    parts = body["contents"][0]["parts"]
    assert parts[1] == {
        "inlineData": {
            "mimeType": "application/pdf",
            "data": allm.DocumentPart.from_bytes(PDF, "x").to_base64(),
        }
    }
    assert parts[2] == {
        "fileData": {"fileUri": "gs://bucket/report.pdf", "mimeType": "application/pdf"}
    }
    assert parts[3]["inlineData"]["mimeType"] == "audio/wav"


def test_gemini_on_vertex_takes_search_code_execution_and_url_context() -> None:
    body = Probe("gemini-2.5-flash").send(
        "q",
        tools=[
            provider_tools.web_search(),
            provider_tools.code_execution(),
            provider_tools.url_context(),
        ],
    )
    assert body["tools"] == [{"googleSearch": {}}, {"codeExecution": {}}, {"urlContext": {}}]


def test_gemini_on_vertex_refuses_file_search_stores() -> None:
    probe = Probe("gemini-2.5-flash")
    with pytest.raises(ValidationError) as caught:
        probe.send("q", tools=[provider_tools.file_search(["fileSearchStores/a"])])
    assert list(caught.value.errors) == [(("tools", 0), "unsupported_option")]
    assert probe.sent == []


def test_claude_on_vertex_sends_documents_and_web_search_with_its_beta_header() -> None:
    probe = Probe("claude-sonnet-4-5@20250929")
    body = probe.send(
        [allm.TextPart("read"), allm.DocumentPart.from_text("plain words", name="notes")],
        tools=[provider_tools.web_search(max_uses=5)],
    )
    assert body["messages"][0]["content"][1] == {
        "type": "document",
        "source": {"type": "text", "media_type": "text/plain", "data": "plain words"},
        "title": "notes",
    }
    assert body["tools"] == [{"type": "web_search_20250305", "name": "web_search", "max_uses": 5}]
    assert probe.sent[0].headers["anthropic-beta"] == "web-search-2025-03-05"


def test_claude_on_vertex_without_server_tools_sends_no_beta_header() -> None:
    probe = Probe("claude-sonnet-4-5@20250929")
    probe.send("q")
    assert "anthropic-beta" not in probe.sent[0].headers


@pytest.mark.parametrize(
    ("tool", "part"),
    [
        (provider_tools.code_execution(), None),
        (provider_tools.url_context(), None),
        (None, allm.AudioPart.from_bytes(WAV, "audio/wav")),
    ],
)
def test_claude_on_vertex_refuses_what_vertex_does_not_document(tool, part) -> None:
    probe = Probe("claude-sonnet-4-5@20250929")
    content = [allm.TextPart("q")] + ([part] if part else [])
    with pytest.raises(ValidationError) as caught:
        probe.send(content, tools=[tool] if tool else ())
    path = ("tools", 0) if tool else ("messages", 0, "content", 1)
    assert list(caught.value.errors) == [(path, "unsupported_option")]
    assert probe.sent == []
