"""Documents, audio and provider tools (W1): each wire's request spelling, the pre-flight
refusals, and the answers (server tool calls, citations, images) folded from each provider's
documented response shapes, streamed and whole."""

from __future__ import annotations

import json
import pickle
from typing import Any

import httpx
import pytest

import allm
from allm import provider_tools
from allm.errors import ValidationError
from allm.providers.parts import SERVER_TOOL_CALLS

PDF = b"%PDF-1.4 tiny"
WAV = b"RIFF....WAVEfmt "

ENGINES: dict[str, tuple[str, str, dict[str, Any]]] = {
    "openai-chat": ("openai", "gpt-4o-mini", {}),
    "openai-search": ("openai", "gpt-4o-search-preview", {}),
    "openai-responses": ("openai", "gpt-5-mini", {"endpoint": "responses"}),
    "openai-compatible": ("openai_compatible", "llama3", {"base_url": "http://127.0.0.1:9/v1"}),
    "anthropic": ("anthropic", "claude-sonnet-4-5", {}),
    "gemini": ("gemini", "gemini-2.5-flash", {}),
}
OK: dict[str, dict[str, Any]] = {
    "openai-chat": {"choices": [{"message": {"content": "ok"}, "finish_reason": "stop"}]},
    "openai-responses": {
        "status": "completed",
        "output": [{"type": "message", "content": [{"type": "output_text", "text": "ok"}]}],
    },
    "anthropic": {"type": "message", "content": [{"type": "text", "text": "ok"}]},
    "gemini": {"candidates": [{"content": {"parts": [{"text": "ok"}]}, "finishReason": "STOP"}]},
}
OK["openai-search"] = OK["openai-compatible"] = OK["openai-chat"]


class Wire:
    """One engine on a mock transport that records what was sent and answers ``answer``."""

    def __init__(self, wire: str, answer: Any = None, *, sse: bytes | None = None) -> None:
        self.sent: list[httpx.Request] = []
        adapter, self.model, opts = ENGINES[wire]
        answer = OK[wire] if answer is None else answer

        def handle(request: httpx.Request) -> httpx.Response:
            self.sent.append(request)
            if sse is not None:
                return httpx.Response(
                    200, headers={"content-type": "text/event-stream"}, content=sse
                )
            return httpx.Response(200, json=answer)

        client = httpx.Client(transport=httpx.MockTransport(handle))
        self.engine = allm.Engine(
            adapter=adapter,
            model=self.model,
            adapter_opts={**opts, "http_client": client},
            retry=False,
        )

    @property
    def body(self) -> dict[str, Any]:
        return dict(json.loads(self.sent[0].content))

    def generate(self, messages: Any, **opts: Any) -> allm.Response:
        streaming = opts.pop("streaming", False)
        return allm.generate(self.engine, messages, streaming=streaming, api_key="k", **opts)


def sent(wire: str, content: list[Any], **opts: Any) -> dict[str, Any]:
    probe = Wire(wire)
    parts = [allm.TextPart(p) if isinstance(p, str) else p for p in content]
    response = probe.generate([allm.user(parts)], **opts)
    assert response.text == "ok", response.error
    return probe.body


def user_blocks(wire: str, body: dict[str, Any]) -> list[Any]:
    if wire == "gemini":
        return list(body["contents"][0]["parts"])
    if wire == "openai-responses":
        return list(body["input"][0]["content"])
    return list(body["messages"][0]["content"])


# -- input parts ----------------------------------------------------------------------------------

PARTS = [
    "read this",
    allm.DocumentPart.from_bytes(PDF, "application/pdf", name="report.pdf"),
    allm.DocumentPart.from_text("plain words", name="notes"),
]
B64_PDF = allm.DocumentPart.from_bytes(PDF, "application/pdf").to_base64()


def _parts(*extra: Any) -> list[Any]:
    return [allm.TextPart(p) if isinstance(p, str) else p for p in (*PARTS, *extra)]


def test_openai_chat_sends_file_and_input_audio_blocks() -> None:
    # https://platform.openai.com/docs/guides/pdf-files?api-mode=chat (file.file_data) and
    # https://platform.openai.com/docs/guides/audio?example=audio-in (input_audio.data/format)
    audio = allm.AudioPart.from_bytes(WAV, "audio/wav")
    blocks = user_blocks("openai-chat", sent("openai-chat", _parts(audio)))
    assert blocks[1] == {
        "type": "file",
        "file": {"filename": "report.pdf", "file_data": f"data:application/pdf;base64,{B64_PDF}"},
    }
    assert blocks[2] == {"type": "text", "text": "plain words"}
    assert blocks[3]["type"] == "input_audio"
    assert blocks[3]["input_audio"]["format"] == "wav"
    assert blocks[3]["input_audio"]["data"] == allm.AudioPart.from_bytes(WAV, "x").to_base64()


def test_openai_compatible_takes_the_chat_spelling() -> None:
    # The Chat Completions spelling (https://platform.openai.com/docs/api-reference/chat/create)
    blocks = user_blocks("openai-compatible", sent("openai-compatible", _parts()))
    assert blocks[1]["type"] == "file" and blocks[1]["file"]["filename"] == "report.pdf"


def test_responses_sends_input_file_with_file_data_or_file_url() -> None:
    # https://platform.openai.com/docs/guides/pdf-files?api-mode=responses (input_file)
    url = allm.DocumentPart.from_url("https://example.com/a.pdf")
    blocks = user_blocks("openai-responses", sent("openai-responses", _parts(url)))
    assert blocks[1] == {
        "type": "input_file",
        "filename": "report.pdf",
        "file_data": f"data:application/pdf;base64,{B64_PDF}",
    }
    assert blocks[2] == {"type": "input_text", "text": "plain words"}
    assert blocks[3] == {"type": "input_file", "file_url": "https://example.com/a.pdf"}


def test_anthropic_sends_document_blocks_with_base64_url_and_text_sources() -> None:
    # https://docs.claude.com/en/docs/build-with-claude/pdf-support (base64 and url sources) and
    # https://docs.claude.com/en/docs/build-with-claude/citations (a plain-text source)
    url = allm.DocumentPart.from_url("https://example.com/a.pdf")
    blocks = user_blocks("anthropic", sent("anthropic", _parts(url)))
    assert blocks[1] == {
        "type": "document",
        "source": {"type": "base64", "media_type": "application/pdf", "data": B64_PDF},
        "title": "report.pdf",
    }
    assert blocks[2] == {
        "type": "document",
        "source": {"type": "text", "media_type": "text/plain", "data": "plain words"},
        "title": "notes",
    }
    assert blocks[3] == {
        "type": "document",
        "source": {"type": "url", "url": "https://example.com/a.pdf"},
    }


def test_anthropic_document_citations_are_asked_through_the_parts_metadata() -> None:
    # https://docs.claude.com/en/docs/build-with-claude/citations: "citations": {"enabled": true}
    cited = allm.DocumentPart.from_text("plain words", name="notes")
    cited = allm.DocumentPart(cited.source, cited.mime_type, cited.name, {"citations": True})
    blocks = user_blocks("anthropic", sent("anthropic", ["q", cited]))
    assert blocks[1]["citations"] == {"enabled": True}


def test_gemini_sends_inline_data_and_file_data() -> None:
    # https://ai.google.dev/gemini-api/docs/document-processing and https://ai.google.dev/api#Part
    url = allm.DocumentPart.from_url("https://example.com/a.pdf", "application/pdf")
    audio = allm.AudioPart.from_bytes(WAV, "audio/wav")
    blocks = user_blocks("gemini", sent("gemini", _parts(url, audio)))
    assert blocks[1] == {"inlineData": {"mimeType": "application/pdf", "data": B64_PDF}}
    assert blocks[2]["inlineData"]["mimeType"] == "text/plain"
    assert blocks[3] == {
        "fileData": {"fileUri": "https://example.com/a.pdf", "mimeType": "application/pdf"}
    }
    assert blocks[4]["inlineData"]["mimeType"] == "audio/wav"


@pytest.mark.parametrize(
    ("wire", "part", "reason"),
    [
        ("anthropic", allm.AudioPart.from_bytes(WAV, "audio/wav"), "unsupported_option"),
        ("openai-responses", allm.AudioPart.from_bytes(WAV, "audio/wav"), "unsupported_option"),
        ("openai-chat", allm.AudioPart.from_bytes(b"x", "audio/flac"), "unsupported_audio_format"),
        ("openai-chat", allm.DocumentPart.from_url("https://e.com/a.pdf"), "unsupported_option"),
    ],
)
def test_a_part_a_wire_cannot_carry_is_refused_before_any_io(wire, part, reason) -> None:
    probe = Wire(wire)
    with pytest.raises(ValidationError) as raised:
        probe.generate([allm.user("x"), allm.user([allm.TextPart("hi"), part])])
    assert (("messages", 1, "content", 1), reason) in raised.value.errors
    assert probe.sent == []


def test_part_constructors_guess_mime_types_and_read_files(tmp_path) -> None:
    pdf = tmp_path / "a.pdf"
    pdf.write_bytes(PDF)
    mp3 = tmp_path / "b.mp3"
    mp3.write_bytes(b"ID3")
    document = allm.DocumentPart.from_file(pdf)
    assert (document.mime_type, document.name, document.to_bytes()) == (
        "application/pdf",
        "a.pdf",
        PDF,
    )
    audio = allm.AudioPart.from_file(mp3)
    assert (audio.mime_type, audio.format) == ("audio/mpeg", "mp3")
    assert allm.AudioPart(audio.source).format is None
    assert allm.DocumentPart.from_text("t").to_data_uri() == "data:text/plain;base64,dA=="


# -- provider tools -------------------------------------------------------------------------------

TOOLS = (
    provider_tools.web_search(max_uses=2, allowed_domains=["example.com"]),
    provider_tools.code_execution(),
)


def test_responses_spells_web_search_code_interpreter_and_file_search() -> None:
    # https://platform.openai.com/docs/guides/tools-web-search?api-mode=responses,
    # https://platform.openai.com/docs/guides/tools-code-interpreter,
    # https://platform.openai.com/docs/guides/tools-file-search
    tools = (*TOOLS, provider_tools.file_search(["vs_1"], max_results=3))
    body = sent("openai-responses", ["hi"], tools=tools)
    assert body["tools"] == [
        {"type": "web_search", "filters": {"allowed_domains": ["example.com"]}},
        {"type": "code_interpreter", "container": {"type": "auto"}},
        {"type": "file_search", "vector_store_ids": ["vs_1"], "max_num_results": 3},
    ]


def test_chat_completions_takes_web_search_options_on_search_models_only() -> None:
    # https://platform.openai.com/docs/guides/tools-web-search?api-mode=chat (web_search_options)
    tool = provider_tools.web_search(context_size="low", user_location={"country": "FR"})
    body = sent("openai-search", ["hi"], tools=[tool])
    assert body["web_search_options"] == {
        "search_context_size": "low",
        "user_location": {"type": "approximate", "approximate": {"country": "FR"}},
    }
    assert "tools" not in body
    probe = Wire("openai-chat")
    with pytest.raises(ValidationError) as raised:
        probe.generate([allm.user("hi")], tools=[tool])
    assert list(raised.value.errors) == [(("tools", 0), "unsupported_option")]


def test_anthropic_spells_server_tools_and_sends_the_beta_header() -> None:
    # https://docs.claude.com/en/docs/agents-and-tools/tool-use/web-search-tool,
    # https://docs.claude.com/en/docs/agents-and-tools/tool-use/code-execution-tool,
    # https://docs.claude.com/en/docs/agents-and-tools/tool-use/web-fetch-tool
    weather = allm.Tool("weather", "Weather.", {"type": "object", "properties": {}})
    probe = Wire("anthropic")
    probe.generate(
        [allm.user("hi")], tools=[weather, *TOOLS, provider_tools.url_context(max_uses=1)]
    )
    assert probe.body["tools"][1:] == [
        {
            "type": "web_search_20250305",
            "name": "web_search",
            "max_uses": 2,
            "allowed_domains": ["example.com"],
        },
        {"type": "code_execution_20250825", "name": "code_execution"},
        {"type": "web_fetch_20250910", "name": "web_fetch", "max_uses": 1},
    ]
    assert probe.body["tools"][0]["name"] == "weather"
    beta = probe.sent[0].headers["anthropic-beta"]
    assert beta == "code-execution-2025-08-25,web-fetch-2025-09-10"


def test_gemini_spells_google_search_code_execution_url_context_and_file_search() -> None:
    # https://ai.google.dev/gemini-api/docs/google-search, .../code-execution, .../url-context,
    # https://ai.google.dev/gemini-api/docs/file-search (fileSearch.fileSearchStoreNames)
    tools = (*TOOLS, provider_tools.url_context(), provider_tools.file_search(["stores/a"]))
    body = sent("gemini", ["hi"], tools=tools)
    assert body["tools"] == [
        {"googleSearch": {}},
        {"codeExecution": {}},
        {"urlContext": {}},
        {"fileSearch": {"fileSearchStoreNames": ["stores/a"]}},
    ]


@pytest.mark.parametrize(
    ("wire", "tool"),
    [
        ("anthropic", provider_tools.file_search(["vs"])),
        ("openai-responses", provider_tools.url_context()),
        ("openai-chat", provider_tools.code_execution()),
    ],
)
def test_a_provider_tool_kind_a_wire_lacks_is_refused_at_its_path(wire, tool) -> None:
    probe = Wire(wire)
    with pytest.raises(ValidationError) as raised:
        probe.generate([allm.user("hi")], tools=[tool])
    assert (("tools", 0), "unsupported_option") in raised.value.errors
    assert probe.sent == []


def test_an_unknown_provider_tool_kind_is_invalid() -> None:
    probe = Wire("gemini")
    with pytest.raises(ValidationError) as raised:
        probe.generate([allm.user("hi")], tools=[allm.ProviderTool("teleport")])
    assert (("tools", 0, "kind"), "unknown") in raised.value.errors


# -- answers: Anthropic ---------------------------------------------------------------------------

USE = {
    "type": "server_tool_use",
    "id": "srvtoolu_1",
    "name": "web_search",
    "input": {"query": "allm"},
}
RESULT = {
    "type": "web_search_tool_result",
    "tool_use_id": "srvtoolu_1",
    "content": [{"type": "web_search_result", "url": "https://a.example", "title": "A"}],
}
CITE = {
    "type": "web_search_result_location",
    "url": "https://a.example",
    "title": "A",
    "cited_text": "allm is a library",
    "encrypted_index": "Eo8B",
}
ANTHROPIC_MESSAGE = {
    "id": "msg_1",
    "type": "message",
    "role": "assistant",
    "model": "claude-sonnet-4-5",
    "content": [
        {"type": "text", "text": "Searching. "},
        USE,
        RESULT,
        {"type": "text", "text": "allm is a library.", "citations": [CITE]},
    ],
    "stop_reason": "end_turn",
    "usage": {
        "input_tokens": 10,
        "output_tokens": 5,
        "server_tool_use": {"web_search_requests": 1},
    },
}


def _sse(events: list[tuple[str, dict[str, Any]]]) -> bytes:
    return "".join(f"event: {name}\ndata: {json.dumps(data)}\n\n" for name, data in events).encode()


ANTHROPIC_STREAM = _sse(
    [
        ("message_start", {"type": "message_start", "message": {**ANTHROPIC_MESSAGE, "content": []}}),
        ("content_block_start", {"type": "content_block_start", "index": 0,
                                 "content_block": {"type": "text", "text": ""}}),
        ("content_block_delta", {"type": "content_block_delta", "index": 0,
                                 "delta": {"type": "text_delta", "text": "Searching. "}}),
        ("content_block_stop", {"type": "content_block_stop", "index": 0}),
        ("content_block_start", {"type": "content_block_start", "index": 1,
                                 "content_block": {**USE, "input": {}}}),
        ("content_block_delta", {"type": "content_block_delta", "index": 1,
                                 "delta": {"type": "input_json_delta",
                                           "partial_json": '{"query": "allm"}'}}),
        ("content_block_stop", {"type": "content_block_stop", "index": 1}),
        ("content_block_start", {"type": "content_block_start", "index": 2,
                                 "content_block": RESULT}),
        ("content_block_stop", {"type": "content_block_stop", "index": 2}),
        ("content_block_start", {"type": "content_block_start", "index": 3,
                                 "content_block": {"type": "text", "text": "", "citations": []}}),
        ("content_block_delta", {"type": "content_block_delta", "index": 3,
                                 "delta": {"type": "citations_delta", "citation": CITE}}),
        ("content_block_delta", {"type": "content_block_delta", "index": 3,
                                 "delta": {"type": "text_delta", "text": "allm is a library."}}),
        ("content_block_stop", {"type": "content_block_stop", "index": 3}),
        ("message_delta", {"type": "message_delta", "delta": {"stop_reason": "end_turn"},
                           "usage": {"output_tokens": 5}}),
        ("message_stop", {"type": "message_stop"}),
    ]
)  # fmt: skip


def _check_anthropic(response: allm.Response) -> None:
    (call,) = response.server_tool_calls
    assert (call.id, call.name, call.arguments) == ("srvtoolu_1", "web_search", {"query": "allm"})
    assert call.result == RESULT["content"]
    (citation,) = response.citations
    assert citation == allm.Citation(
        "url",
        url="https://a.example",
        title="A",
        cited_text="allm is a library",
        metadata={"type": "web_search_result_location", "encrypted_index": "Eo8B"},
    )
    assert response.message is not None
    assert response.message.metadata[SERVER_TOOL_CALLS] == (call,)
    assert response.text == "Searching. allm is a library."


def test_anthropic_whole_answer_folds_server_tool_calls_and_citations() -> None:
    _check_anthropic(Wire("anthropic", ANTHROPIC_MESSAGE).generate([allm.user("q")]))


def test_anthropic_stream_folds_the_same_and_emits_the_events() -> None:
    probe = Wire("anthropic", sse=ANTHROPIC_STREAM)
    events = list(allm.stream_generate(probe.engine, [allm.user("q")], api_key="k"))
    kinds = [type(event).__name__ for event in events]
    assert kinds.count("ServerToolCallCompleted") == 1 and kinds.count("CitationAdded") == 1
    folded = allm.StreamCollector().apply_all(events).to_response()
    _check_anthropic(folded)
    _check_anthropic(probe.generate([allm.user("q")], streaming=True))


def test_anthropic_next_turn_sends_the_server_tool_blocks_back() -> None:
    first = Wire("anthropic", ANTHROPIC_MESSAGE).generate([allm.user("q")])
    assert first.message is not None
    probe = Wire("anthropic")
    probe.generate([allm.user("q"), first.message, allm.user("more")])
    assistant = probe.body["messages"][1]["content"]
    assert assistant[0] == USE and assistant[1] == RESULT
    assert assistant[2] == {"type": "text", "text": "Searching. allm is a library."}


def test_anthropic_document_citations_are_document_citations() -> None:
    char = {
        "type": "char_location",
        "cited_text": "words",
        "document_index": 0,
        "document_title": "notes",
        "start_char_index": 6,
        "end_char_index": 11,
    }
    answer = {**ANTHROPIC_MESSAGE, "content": [{"type": "text", "text": "x", "citations": [char]}]}
    (citation,) = Wire("anthropic", answer).generate([allm.user("q")]).citations
    assert (citation.kind, citation.title, citation.start, citation.end, citation.source) == (
        "document",
        "notes",
        6,
        11,
        "0",
    )


# -- answers: OpenAI ------------------------------------------------------------------------------

PNG_B64 = "iVBORw0KGgo="
RESPONSES_BODY = {
    "id": "resp_1",
    "object": "response",
    "status": "completed",
    "model": "gpt-5-mini",
    "output": [
        {
            "type": "web_search_call",
            "id": "ws_1",
            "status": "completed",
            "action": {
                "type": "search",
                "query": "allm",
                "sources": [{"url": "https://a.example"}],
            },
        },
        {"type": "code_interpreter_call", "id": "ci_1", "code": "1+1", "outputs": [{"logs": "2"}]},
        {"type": "file_search_call", "id": "fs_1", "queries": ["q"], "results": None},
        {"type": "image_generation_call", "id": "ig_1", "result": PNG_B64, "revised_prompt": "cat"},
        {
            "type": "message",
            "role": "assistant",
            "content": [
                {
                    "type": "output_text",
                    "text": "allm is a library.",
                    "annotations": [
                        {
                            "type": "url_citation",
                            "url": "https://a.example",
                            "title": "A",
                            "start_index": 0,
                            "end_index": 4,
                        },
                        {
                            "type": "file_citation",
                            "file_id": "file_1",
                            "filename": "a.pdf",
                            "index": 5,
                        },
                    ],
                }
            ],
        },
    ],
}


def _check_responses(response: allm.Response) -> None:
    names = [(c.id, c.name) for c in response.server_tool_calls]
    assert names == [("ws_1", "web_search"), ("ci_1", "code_execution"), ("fs_1", "file_search")]
    assert response.server_tool_calls[0].arguments == {"type": "search", "query": "allm"}
    assert response.server_tool_calls[1].result == [{"logs": "2"}]
    assert response.citations == (
        allm.Citation("url", url="https://a.example", title="A", start=0, end=4),
        allm.Citation("document", title="a.pdf", source="file_1", start=5),
    )
    (image,) = response.images
    assert image.image.to_bytes().startswith(b"\x89PNG")
    assert image.metadata == {"revised_prompt": "cat"}
    assert response.text == "allm is a library."


def test_responses_whole_answer_folds_hosted_calls_citations_and_images() -> None:
    _check_responses(Wire("openai-responses", RESPONSES_BODY).generate([allm.user("q")]))


def test_responses_stream_folds_the_same() -> None:
    stream = _sse(
        [
            ("response.created", {"type": "response.created",
                                  "response": {**RESPONSES_BODY, "status": "in_progress", "output": []}}),
            ("response.output_text.delta", {"type": "response.output_text.delta",
                                            "delta": "allm is a library."}),
            ("response.completed", {"type": "response.completed", "response": RESPONSES_BODY}),
        ]
    )  # fmt: skip
    probe = Wire("openai-responses", sse=stream)
    response = probe.generate([allm.user("q")], streaming=True)
    _check_responses(response)
    events = allm.stream_generate(probe.engine, [allm.user("q")], api_key="k")
    folded = allm.StreamCollector().apply_all(events).to_response()
    _check_responses(folded)
    assert folded.message == response.message


CHAT_NOTE = {
    "type": "url_citation",
    "url_citation": {"url": "https://a.example", "title": "A", "start_index": 1, "end_index": 3},
}
CHAT_CITATION = allm.Citation("url", url="https://a.example", title="A", start=1, end=3)


def test_chat_completions_url_citations_whole_and_streamed() -> None:
    whole = {
        "choices": [
            {
                "message": {"content": "ok", "annotations": [CHAT_NOTE]},
                "finish_reason": "stop",
            }
        ]
    }
    assert Wire("openai-search", whole).generate([allm.user("q")]).citations == (CHAT_CITATION,)
    chunks = [
        {"choices": [{"delta": {"content": "ok"}}]},
        {"choices": [{"delta": {"annotations": [CHAT_NOTE]}}]},
        {"choices": [{"delta": {}, "finish_reason": "stop"}]},
    ]
    stream = "".join(f"data: {json.dumps(c)}\n\n" for c in chunks) + "data: [DONE]\n\n"
    probe = Wire("openai-search", sse=stream.encode())
    response = probe.generate([allm.user("q")], streaming=True)
    assert response.citations == (CHAT_CITATION,)


# -- answers: Gemini ------------------------------------------------------------------------------

GROUNDING = {
    "webSearchQueries": ["allm python"],
    "groundingChunks": [{"web": {"uri": "https://a.example", "title": "a.example"}}],
    "groundingSupports": [
        {"segment": {"startIndex": 0, "endIndex": 4, "text": "allm"}, "groundingChunkIndices": [0]}
    ],
}
GEMINI_CHUNKS = [
    {"candidates": [{"content": {"role": "model", "parts": [
        {"executableCode": {"language": "PYTHON", "code": "print(1)"}},
        {"codeExecutionResult": {"outcome": "OUTCOME_OK", "output": "1\n"}},
    ]}}]},
    {"candidates": [{"content": {"role": "model", "parts": [
        {"text": "allm is a library."},
        {"inlineData": {"mimeType": "image/png", "data": PNG_B64}},
    ]}, "finishReason": "STOP", "groundingMetadata": GROUNDING,
        "urlContextMetadata": {"urlMetadata": [{"retrievedUrl": "https://a.example"}]}}]},
]  # fmt: skip


def _check_gemini(response: allm.Response) -> None:
    code, search, fetched = response.server_tool_calls
    assert (code.name, code.arguments, code.result) == (
        "code_execution",
        {"language": "PYTHON", "code": "print(1)"},
        {"outcome": "OUTCOME_OK", "output": "1\n"},
    )
    assert (search.name, search.arguments) == ("web_search", {"queries": ["allm python"]})
    assert fetched.name == "url_context"
    assert response.citations == (
        allm.Citation(
            "grounding",
            url="https://a.example",
            title="a.example",
            cited_text="allm",
            start=0,
            end=4,
            metadata={"chunk_index": 0},
        ),
    )
    assert len(response.images) == 1 and response.images[0].mime_type == "image/png"
    assert response.text == "allm is a library."
    assert response.message is not None and response.message.text == "allm is a library."


def test_gemini_stream_folds_code_execution_grounding_and_images() -> None:
    stream = "".join(f"data: {json.dumps(c)}\n\n" for c in GEMINI_CHUNKS).encode()
    _check_gemini(Wire("gemini", sse=stream).generate([allm.user("q")], streaming=True))


def test_gemini_whole_answer_folds_the_same() -> None:
    parts = [p for c in GEMINI_CHUNKS for p in c["candidates"][0]["content"]["parts"]]
    body = {"candidates": [{**GEMINI_CHUNKS[1]["candidates"][0], "content": {"parts": parts}}]}
    _check_gemini(Wire("gemini", body).generate([allm.user("q")]))


def test_gemini_chunks_without_supports_cite_each_chunk() -> None:
    from allm.providers.gemini.server import grounding_citations

    found = grounding_citations({"groundingChunks": GROUNDING["groundingChunks"]})
    assert [c.url for c in found] == ["https://a.example"]


# -- values, the fake and the loop ----------------------------------------------------------------

VALUES = [
    allm.DocumentPart.from_bytes(PDF, "application/pdf", name="a.pdf"),
    allm.DocumentPart.from_text("words"),
    allm.AudioPart.from_bytes(WAV, "audio/wav"),
    provider_tools.web_search(blocked_domains=("x.com",)),
    provider_tools.file_search(["vs_1"]),
    allm.ServerToolCall("s1", "web_search", {"q": 1}, [1], {"blocks": ({"a": 1},)}),
    allm.Citation("grounding", url="u", start=1),
    allm.Response(
        citations=(allm.Citation("url", url="u"),),
        server_tool_calls=(allm.ServerToolCall("s", "code_execution"),),
    ),
    allm.user([allm.TextPart("x"), allm.DocumentPart.from_text("y")]),
]


@pytest.mark.parametrize("value", VALUES, ids=lambda v: type(v).__name__)
def test_new_values_round_trip_through_json_and_pickle(value) -> None:
    assert allm.from_json(allm.to_json(value)) == value
    assert pickle.loads(pickle.dumps(value)) == value


def test_the_chat_loop_never_runs_provider_tools_and_keeps_them_in_the_thread() -> None:
    from allm.providers import fake

    engine = allm.Engine(
        adapter="fake",
        adapter_opts={
            "script": [
                fake.server_tool_call("ws_1", "web_search", {"query": "q"}, ["r"]),
                fake.citation("url", url="https://a.example"),
                fake.text("done"),
            ]
        },
        tools=(provider_tools.web_search(),),
    )
    result = allm.chat(engine, [allm.user("q")])
    assert result.final_response.server_tool_calls[0].id == "ws_1"
    assert result.final_response.citations[0].url == "https://a.example"
    kept = result.thread.messages[-1].metadata[SERVER_TOOL_CALLS]
    assert kept[0].result == ["r"]
    assert len(result.steps) == 1


def test_the_catalog_refuses_parts_and_provider_tools_the_model_lacks() -> None:
    from allm.catalog import check_capabilities
    from allm.data import ModelRef

    ref = ModelRef(
        "openai",
        "m",
        capabilities={"documents": False, "audio_input": False, "provider_tools": ["web_search"]},
    )
    request = allm.request(
        [
            allm.user(
                ["x", allm.DocumentPart.from_text("y"), allm.AudioPart.from_bytes(WAV, "audio/wav")]
            )
        ],
        tools=[provider_tools.web_search(), provider_tools.code_execution()],
    )
    with pytest.raises(ValidationError) as raised:
        check_capabilities(request, ref)
    assert list(raised.value.errors) == [
        (("messages", 0, "content", 1), "documents_disabled"),
        (("messages", 0, "content", 2), "audio_disabled"),
        (("tools", 1), "provider_tool_unsupported"),
    ]


def test_the_catalog_lists_part_refusals_beside_reasoning_and_caching_ones() -> None:
    from allm.catalog import check_capabilities
    from allm.data import ModelRef

    flags = {"documents": False, "reasoning": False, "prompt_caching": False}
    request = allm.request(
        [allm.user(["x", allm.CachePoint(), allm.DocumentPart.from_text("y")])],
        reasoning="high",
        prompt_cache="auto",
    )
    with pytest.raises(ValidationError) as raised:
        check_capabilities(request, ModelRef("anthropic", "m", capabilities=flags))
    assert list(raised.value.errors) == [
        (("messages", 0, "content", 2), "documents_disabled"),
        (("reasoning",), "reasoning_disabled"),
        (("prompt_cache",), "prompt_caching_disabled"),
        (("messages", 0, "content"), "prompt_caching_disabled"),
    ]
    allowed = {"documents": True, "reasoning": True, "prompt_caching": True}
    check_capabilities(request, ModelRef("anthropic", "m", capabilities=allowed))  # no raise


def test_ollama_native_chat_refuses_documents_audio_and_provider_tools() -> None:
    engine = allm.Engine(adapter="ollama", model="llama3", retry=False)
    with pytest.raises(ValidationError) as raised:
        allm.generate(
            engine,
            [allm.user([allm.TextPart("x"), allm.DocumentPart.from_text("y")])],
            tools=[provider_tools.web_search()],
        )
    assert list(raised.value.errors) == [
        (("messages", 0, "content", 1), "unsupported_option"),
        (("tools", 0), "unsupported_option"),
    ]
