"""Documents, audio and provider tools on Azure OpenAI and Mistral: the request body each sends
(field names as their API references spell them) and what each refuses before any I/O."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

import allm
from allm import provider_tools
from allm.errors import ValidationError

PDF = b"%PDF-1.4 tiny"
WAV = b"RIFF....WAVEfmt "
CHAT_OK = {"choices": [{"message": {"content": "ok"}, "finish_reason": "stop"}]}
RESPONSES_OK = {
    "status": "completed",
    "output": [{"type": "message", "content": [{"type": "output_text", "text": "ok"}]}],
}


class Probe:
    """An engine on a mock transport that records each body it sent."""

    def __init__(self, adapter: str, model: str, **opts: Any) -> None:
        self.bodies: list[dict[str, Any]] = []
        answer = RESPONSES_OK if opts.get("endpoint") == "responses" else CHAT_OK

        def handle(request: httpx.Request) -> httpx.Response:
            self.bodies.append(json.loads(request.content))
            return httpx.Response(200, json=answer)

        client = httpx.Client(transport=httpx.MockTransport(handle))
        self.engine = allm.Engine(
            adapter=adapter, model=model, adapter_opts={**opts, "http_client": client}, retry=False
        )

    def blocks(self, *parts: Any, **opts: Any) -> list[Any]:
        response = allm.generate(
            self.engine, [allm.user(list(parts))], streaming=False, api_key="k", **opts
        )
        assert response.text == "ok", response.error
        body = self.bodies[-1]
        return list(
            body["input"][0]["content"] if "input" in body else body["messages"][0]["content"]
        )


def azure(endpoint: str = "chat_completions") -> Probe:
    return Probe("azure", "my-gpt-4o", resource="contoso", endpoint=endpoint)


def mistral(model: str = "mistral-small-latest") -> Probe:
    return Probe("mistral", model)


# -- Azure OpenAI: the OpenAI wires ---------------------------------------------------------------


def test_azure_chat_sends_file_and_input_audio_blocks() -> None:
    # https://learn.microsoft.com/en-us/azure/ai-foundry/openai/reference#chat-completions
    blocks = azure().blocks(
        allm.TextPart("read and listen"),
        allm.DocumentPart.from_bytes(PDF, "application/pdf", name="report.pdf"),
        allm.AudioPart.from_bytes(WAV, "audio/wav"),
    )
    assert blocks[1]["type"] == "file"
    assert blocks[1]["file"]["filename"] == "report.pdf"
    assert blocks[1]["file"]["file_data"].startswith("data:application/pdf;base64,")
    assert blocks[2] == {
        "type": "input_audio",
        "input_audio": {"data": allm.AudioPart.from_bytes(WAV, "x").to_base64(), "format": "wav"},
    }


def test_azure_responses_sends_input_file_and_its_hosted_tools() -> None:
    # https://learn.microsoft.com/en-us/azure/ai-foundry/openai/how-to/responses and
    # https://learn.microsoft.com/en-us/azure/ai-foundry/openai/how-to/web-search
    probe = azure("responses")
    blocks = probe.blocks(
        allm.TextPart("read"),
        allm.DocumentPart.from_bytes(PDF, "application/pdf", name="report.pdf"),
        tools=[
            provider_tools.web_search(),
            provider_tools.code_execution(),
            provider_tools.file_search(["vs_1"]),
        ],
    )
    assert blocks[1]["type"] == "input_file" and blocks[1]["filename"] == "report.pdf"
    assert probe.bodies[0]["tools"] == [
        {"type": "web_search"},
        {"type": "code_interpreter", "container": {"type": "auto"}},
        {"type": "file_search", "vector_store_ids": ["vs_1"]},
    ]


def test_azure_chat_refuses_what_chat_completions_cannot_carry() -> None:
    probe = azure()
    with pytest.raises(ValidationError) as caught:
        probe.blocks(
            allm.DocumentPart.from_url("https://e.com/a.pdf"),
            tools=[provider_tools.code_execution()],
        )
    assert list(caught.value.errors) == [
        (("messages", 0, "content", 0), "unsupported_option"),
        (("tools", 0), "unsupported_option"),
    ]
    assert probe.bodies == []


# -- Mistral --------------------------------------------------------------------------------------


def test_mistral_sends_document_url_and_input_audio_chunks() -> None:
    # https://docs.mistral.ai/capabilities/document_ai/document_qna/ and
    # https://docs.mistral.ai/capabilities/audio_transcription (chat with audio)
    blocks = mistral().blocks(
        allm.TextPart("what is the last sentence?"),
        allm.DocumentPart.from_url("https://arxiv.org/pdf/1805.04770"),
        allm.DocumentPart.from_text("inline notes"),
        allm.AudioPart.from_bytes(WAV, "audio/mpeg"),
        allm.ImagePart.from_url("https://e.com/cat.png"),
    )
    assert blocks[0] == {"type": "text", "text": "what is the last sentence?"}
    assert blocks[1] == {"type": "document_url", "document_url": "https://arxiv.org/pdf/1805.04770"}
    assert blocks[2] == {"type": "text", "text": "inline notes"}
    assert blocks[3] == {
        "type": "input_audio",
        "input_audio": allm.AudioPart.from_bytes(WAV, "x").to_base64(),
    }
    assert blocks[4]["type"] == "image_url"


def test_mistral_text_only_content_stays_a_string() -> None:
    probe = mistral()
    allm.generate(probe.engine, [allm.user("hi")], streaming=False, api_key="k")
    assert probe.bodies[0]["messages"][0]["content"] == "hi"


@pytest.mark.parametrize(
    ("content", "tools", "path"),
    [
        (allm.DocumentPart.from_bytes(PDF, "application/pdf"), (), ("messages", 0, "content", 1)),
        (None, (provider_tools.web_search(),), ("tools", 0)),
        (None, (provider_tools.code_execution(),), ("tools", 0)),
    ],
)
def test_mistral_refuses_document_bytes_and_provider_tools(content, tools, path) -> None:
    probe = mistral("mistral-small-search")  # a "search" name makes no provider tool appear
    parts = [allm.TextPart("q")] + ([content] if content is not None else [])
    with pytest.raises(ValidationError) as caught:
        probe.blocks(*parts, tools=list(tools))
    assert list(caught.value.errors) == [(path, "unsupported_option")]
    assert probe.bodies == []
