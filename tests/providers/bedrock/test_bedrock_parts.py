"""Documents, audio and provider tools on Bedrock Converse: the request body in Converse's
spelling (https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_ContentBlock.html,
https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_DocumentBlock.html,
https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_AudioBlock.html,
https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_SystemTool.html), the
pre-flight refusals, and the system tool blocks sent back on the next turn."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

import allm
from allm import provider_tools
from allm.errors import ValidationError

CLAUDE = "anthropic.claude-sonnet-4-5-20250929-v1:0"
NOVA = "us.amazon.nova-2-lite-v1:0"
PDF = b"%PDF-1.4 tiny"
WAV = b"RIFF....WAVEfmt "
ANSWER = {
    "output": {"message": {"role": "assistant", "content": [{"text": "ok"}]}},
    "stopReason": "end_turn",
    "usage": {"inputTokens": 3, "outputTokens": 1, "totalTokens": 4},
}


class Probe:
    """A Bedrock engine (API-key auth) on a mock transport that records the body it sent."""

    def __init__(self, model: str = CLAUDE, answer: dict[str, Any] | None = None) -> None:
        self.bodies: list[dict[str, Any]] = []

        def handle(request: httpx.Request) -> httpx.Response:
            self.bodies.append(json.loads(request.content))
            return httpx.Response(200, json=answer or ANSWER)

        client = httpx.Client(transport=httpx.MockTransport(handle))
        self.engine = allm.Engine(
            adapter="bedrock",
            model=model,
            adapter_opts={"region": "us-east-1", "http_client": client},
            retry=False,
        )

    def send(self, messages: list[allm.Message], **opts: Any) -> allm.Response:
        return allm.generate(self.engine, messages, streaming=False, api_key="k", **opts)


def user_blocks(*parts: Any, model: str = CLAUDE, **opts: Any) -> list[dict[str, Any]]:
    probe = Probe(model)
    assert probe.send([allm.user(list(parts))], **opts).text == "ok"
    return list(probe.bodies[0]["messages"][0]["content"])


def test_documents_go_as_document_blocks_with_bytes_text_or_s3_sources() -> None:
    blocks = user_blocks(
        "read these",
        allm.DocumentPart.from_bytes(PDF, "application/pdf", name="report.pdf"),
        allm.DocumentPart.from_text("plain words", name="notes"),
        allm.DocumentPart.from_url("s3://bucket/deck.pdf", "application/pdf"),
        allm.DocumentPart.from_bytes(b"a,b", "text/csv"),
    )
    pdf = allm.DocumentPart.from_bytes(PDF, "application/pdf").to_base64()
    assert blocks[0] == {"text": "read these"}
    # ``.`` is not a character Converse allows in a document name.
    assert blocks[1] == {
        "document": {"format": "pdf", "name": "report pdf", "source": {"bytes": pdf}}
    }
    assert blocks[2] == {
        "document": {"format": "txt", "name": "notes", "source": {"text": "plain words"}}
    }
    assert blocks[3] == {
        "document": {
            "format": "pdf",
            "name": "document",
            "source": {"s3Location": {"uri": "s3://bucket/deck.pdf"}},
        }
    }
    assert blocks[4]["document"]["format"] == "csv"


def test_a_document_asks_for_citations_through_its_metadata() -> None:
    part = allm.DocumentPart(
        allm.DocumentPart.from_text("x").source, "text/plain", "notes", {"citations": True}
    )
    (block,) = user_blocks(part)
    assert block["document"]["citations"] == {"enabled": True}


def test_audio_goes_as_an_audio_block() -> None:
    (block,) = user_blocks(allm.AudioPart.from_bytes(WAV, "audio/wav"), model=NOVA)
    data = allm.AudioPart.from_bytes(WAV, "audio/wav").to_base64()
    assert block == {"audio": {"format": "wav", "source": {"bytes": data}}}
    (mp3,) = user_blocks(allm.AudioPart.from_bytes(WAV, "audio/mpeg"), model=NOVA)
    assert mp3["audio"]["format"] == "mp3"


def test_nova_takes_web_search_and_code_execution_as_system_tools() -> None:
    probe = Probe(NOVA)
    probe.send(
        [allm.user("q")], tools=[provider_tools.web_search(), provider_tools.code_execution()]
    )
    assert probe.bodies[0]["toolConfig"]["tools"] == [
        {"systemTool": {"name": "nova_grounding"}},
        {"systemTool": {"name": "nova_code_interpreter"}},
    ]


def test_system_tools_sit_beside_function_tools() -> None:
    tool = allm.Tool("lookup", "Look a word up", {"type": "object", "properties": {}})
    probe = Probe(NOVA)
    probe.send([allm.user("q")], tools=[tool, provider_tools.web_search()])
    tools = probe.bodies[0]["toolConfig"]["tools"]
    assert tools[0]["toolSpec"]["name"] == "lookup"
    assert tools[1] == {"systemTool": {"name": "nova_grounding"}}


@pytest.mark.parametrize(
    ("model", "tools", "errors"),
    [
        (CLAUDE, [provider_tools.web_search()], [(("tools", 0), "unsupported_option")]),
        (NOVA, [provider_tools.url_context()], [(("tools", 0), "unsupported_option")]),
        (NOVA, [provider_tools.file_search(["vs_1"])], [(("tools", 0), "unsupported_option")]),
        (
            NOVA,
            [provider_tools.web_search(max_uses=2, allowed_domains=["a.example"])],
            [
                (("tools", 0, "max_uses"), "unsupported_option"),
                (("tools", 0, "allowed_domains"), "unsupported_option"),
            ],
        ),
    ],
)
def test_a_provider_tool_converse_cannot_run_is_refused(model, tools, errors) -> None:
    probe = Probe(model)
    with pytest.raises(ValidationError) as caught:
        probe.send([allm.user("q")], tools=tools)
    assert list(caught.value.errors) == errors
    assert probe.bodies == []  # before any I/O


@pytest.mark.parametrize(
    ("part", "reason"),
    [
        (allm.DocumentPart.from_url("https://e.com/a.pdf"), "unsupported_option"),
        (allm.DocumentPart.from_bytes(b"{}", "application/json"), "unsupported_document_format"),
        (allm.AudioPart.from_bytes(WAV, "audio/x-unknown"), "unsupported_audio_format"),
    ],
)
def test_a_part_converse_cannot_carry_is_refused_at_its_path(part, reason) -> None:
    probe = Probe()
    with pytest.raises(ValidationError) as caught:
        probe.send([allm.user([allm.TextPart("x"), part])])
    assert list(caught.value.errors) == [(("messages", 0, "content", 1), reason)]
    assert probe.bodies == []


SYSTEM_USE = {
    "toolUse": {
        "toolUseId": "tooluse_1",
        "name": "nova_code_interpreter",
        "type": "server_tool_use",
        "input": {"code": "print(1 + 1)"},
    }
}
SYSTEM_RESULT = {
    "toolResult": {
        "toolUseId": "tooluse_1",
        "type": "nova_code_interpreter_result",
        "status": "success",
        "content": [{"json": {"stdOut": "2\n", "stdErr": "", "exitCode": 0, "isError": False}}],
    }
}


def test_a_system_tool_run_is_sent_back_on_the_next_turn_and_never_run_by_the_loop() -> None:
    answer = {
        "output": {
            "message": {
                "role": "assistant",
                "content": [SYSTEM_USE, SYSTEM_RESULT, {"text": "It is 2."}],
            }
        },
        "stopReason": "end_turn",
        "usage": {"inputTokens": 3, "outputTokens": 1, "totalTokens": 4},
    }
    first = Probe(NOVA, answer).send([allm.user("1+1?")], tools=[provider_tools.code_execution()])
    assert first.tool_calls == () and first.finish_reason == "stop"
    (run,) = first.server_tool_calls
    assert (run.id, run.name, run.arguments) == (
        "tooluse_1",
        "code_execution",
        {"code": "print(1 + 1)"},
    )
    assert first.message is not None
    probe = Probe(NOVA)
    probe.send([allm.user("1+1?"), first.message, allm.user("and 2+2?")])
    assert probe.bodies[0]["messages"][1]["content"] == [
        SYSTEM_USE,
        SYSTEM_RESULT,
        {"text": "It is 2."},
    ]


# -- the answer readers, case by case -------------------------------------------------------------


def test_converse_citation_locations_map_to_citations() -> None:
    from allm.providers.bedrock.server import citation

    page = {
        "title": "deck",
        "sourceContent": [{"text": "Revenue grew."}, {"text": " Costs fell."}],
        "location": {"documentPage": {"documentIndex": 1, "start": 3, "end": 4}},
    }
    found = citation(page)
    assert found == allm.Citation(
        "document",
        title="deck",
        cited_text="Revenue grew. Costs fell.",
        source="1",
        metadata={"location": {"documentPage": {"documentIndex": 1, "start": 3, "end": 4}}},
    )
    assert citation({"title": "t", "source": "s1"}) == allm.Citation(
        "document", title="t", source="s1"
    )
    assert citation("not a citation") is None


def test_tool_result_pieces_join_consecutive_text() -> None:
    from allm.providers.bedrock.server import merged_results

    pieces = [{"text": "ab"}, {"text": "c"}, {"json": {"x": 1}}, "raw", {"text": "d"}]
    assert merged_results(pieces) == [{"text": "abc"}, {"json": {"x": 1}}, "raw", {"text": "d"}]


def test_audio_at_an_s3_uri_goes_as_an_s3_location() -> None:
    part = allm.AudioPart(allm.DocumentPart.from_url("s3://bucket/a.wav").source, "audio/wav")
    (block,) = user_blocks(part, model=NOVA)
    assert block == {
        "audio": {"format": "wav", "source": {"s3Location": {"uri": "s3://bucket/a.wav"}}}
    }


def test_repeated_citations_and_runs_are_reported_once_and_stray_results_are_ignored() -> None:
    from allm.adapters.eventstream import EventStreamMessage
    from allm.events import CitationAdded, ServerToolCallCompleted
    from allm.providers.bedrock import BedrockStreamDecoder

    cite = {"location": {"web": {"url": "https://a.example"}}}
    frames = [
        ("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"citation": cite}}),
        ("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"citation": cite}}),
        ("contentBlockDelta", {"contentBlockIndex": 5, "delta": {"toolResult": [{"text": "x"}]}}),
    ]
    for _ in range(2):  # the same system tool run twice: one call
        frames += [
            (
                "contentBlockStart",
                {"contentBlockIndex": 1, "start": {"toolResult": {"toolUseId": "t1"}}},
            ),
            ("contentBlockStop", {"contentBlockIndex": 1}),
        ]
    decoder = BedrockStreamDecoder("bedrock", "r", CLAUDE)
    events = []
    for kind, payload in frames:
        headers = {":event-type": kind, ":message-type": "event"}
        events += decoder.feed(EventStreamMessage(headers, json.dumps(payload).encode()))
    assert sum(isinstance(e, CitationAdded) for e in events) == 1
    (run,) = [e.call for e in events if isinstance(e, ServerToolCallCompleted)]
    assert (run.id, run.name, run.arguments, run.result) == ("t1", "", {}, [])
