"""The audio adapters' own rules and edges, on handwritten answers: headers, options on the
wire, transport failures, answers that are not audio, unreadable spans, usage variants."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from tests.audio.support import AudioDriver, mock_clients, multipart_parts

import allm
from allm.adapters import Call
from allm.providers.fake_audio import FakeSpeech, FakeTranscription, tone
from allm.providers.gemini_transcription import GeminiTranscription, transcription_schema
from allm.providers.openai_audio import OpenAISpeech, transcription_usage

WAV = tone(100)


@pytest.fixture(params=["sync", "async"])
def audio(request: pytest.FixtureRequest) -> AudioDriver:
    return AudioDriver(request.param)


class Server:
    """Answers every request with ``answer(request)``, keeping what was sent."""

    def __init__(
        self, status: int = 200, headers: dict[str, str] | None = None, body: Any = b""
    ) -> None:
        self.sent: list[httpx.Request] = []
        self.status, self.headers = status, headers or {}
        self.body = json.dumps(body).encode() if isinstance(body, dict) else body

    def _answer(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(request)
        if isinstance(self.body, Exception):
            raise self.body
        return httpx.Response(self.status, headers=self.headers, content=self.body)

    def opts(self) -> dict[str, Any]:
        return mock_clients(self._answer)


def engine(server: Server, **slots: Any) -> allm.Engine:
    return allm.Engine(adapter_opts=server.opts(), retry=False, **slots)


def test_speech_sends_organization_project_options_and_extra_headers(audio: AudioDriver) -> None:
    server = Server(headers={"content-type": "audio/mpeg"}, body=b"\xff\xfb\x90\x00")
    adapter = OpenAISpeech(organization="org-1", project="proj-1", headers={"x-team": "a"})
    response = audio.synthesize(
        engine(server, speech_adapter=adapter),
        "hi",
        voice="nova",
        stream_format="audio",
        api_key="sk-test",
    )
    [sent] = server.sent
    assert sent.headers["openai-organization"] == "org-1"
    assert sent.headers["openai-project"] == "proj-1"
    assert sent.headers["x-team"] == "a"
    assert json.loads(sent.content)["stream_format"] == "audio"  # a provider parameter
    assert response.model == "gpt-4o-mini-tts"  # the adapter's default
    assert response.metadata == {"request_id": response.metadata["request_id"]}


@pytest.mark.parametrize("content_type", ["", "application/octet-stream"])
def test_speech_without_an_audio_type_is_the_format_asked_for(
    audio: AudioDriver, content_type: str
) -> None:
    server = Server(headers={"content-type": content_type} if content_type else {}, body=b"OggS..")
    speech = engine(server, speech_adapter="openai_speech")
    response = audio.synthesize(speech, "hi", format="opus", api_key="sk-test")
    assert response.audio.mime_type == "audio/opus"
    assert audio.chunks(speech, "hi", format="opus", api_key="sk-test") == [b"OggS.."]


def test_a_long_page_where_audio_was_due_is_malformed(audio: AudioDriver) -> None:
    server = Server(headers={"content-type": "application/json"}, body=b"{" + b" " * 9000 + b"}")
    with pytest.raises(allm.AdapterError) as raised:
        audio.chunks(engine(server, speech_adapter="openai_speech"), "hi", api_key="sk-test")
    assert raised.value.reason == "malformed_response"
    assert "application/json" in raised.value.message


@pytest.mark.parametrize(
    ("failure", "reason"),
    [(httpx.ConnectError("refused"), "network_error"), (httpx.ReadTimeout("slow"), "timeout")],
)
def test_transport_failures_keep_their_reason(
    audio: AudioDriver, failure: Exception, reason: str
) -> None:
    server = Server(body=failure)
    slots = {
        "speech_adapter": "openai_speech",
        "transcription_adapter": "openai_transcription",
    }
    with pytest.raises(allm.AdapterError) as raised:
        audio.synthesize(engine(server, **slots), "hi", api_key="sk-test")
    assert raised.value.reason == reason
    with pytest.raises(allm.AdapterError) as raised:
        audio.chunks(engine(server, **slots), "hi", api_key="sk-test")
    assert raised.value.reason == reason
    with pytest.raises(allm.AdapterError) as raised:
        audio.transcribe(engine(server, **slots), WAV, api_key="sk-test")
    assert raised.value.reason == reason
    gemini = engine(server, transcription_adapter="gemini_transcription")
    with pytest.raises(allm.AdapterError) as raised:
        audio.transcribe(gemini, WAV, api_key="gm-test")
    assert raised.value.reason == reason


def test_transcription_fields_options_and_list_values(audio: AudioDriver) -> None:
    server = Server(headers={"content-type": "application/json"}, body={"text": " hi "})
    heard = engine(server, transcription_adapter="openai_transcription")
    result = audio.transcribe(
        heard,
        WAV,
        model="gpt-4o-mini-transcribe",
        temperature=0,
        include=["logprobs"],
        chunking_strategy="auto",
        api_key="sk-test",
    )
    assert result.text == "hi" and result.language is None
    fields = [(n, p.decode()) for n, f, _, p in multipart_parts(server.sent[0]) if f is None]
    assert fields == [
        ("model", "gpt-4o-mini-transcribe"),
        ("response_format", "json"),
        ("temperature", "0"),
        ("include[]", "logprobs"),
        ("chunking_strategy", "auto"),
    ]


def test_logprobs_are_kept_and_unreadable_spans_are_malformed(audio: AudioDriver) -> None:
    logprobs = [{"token": "hi", "logprob": -0.1, "bytes": [104, 105]}]
    server = Server(
        headers={"content-type": "application/json"}, body={"text": "hi", "logprobs": logprobs}
    )
    heard = engine(server, transcription_adapter="openai_transcription")
    assert audio.transcribe(heard, WAV, api_key="sk-test").metadata["logprobs"] == logprobs
    for bad in ({"segments": {}}, {"segments": [3]}, {"words": [{"word": "a", "start": 0}]}):
        server.body = json.dumps({"text": "hi", **bad}).encode()
        with pytest.raises(allm.AdapterError) as raised:
            audio.transcribe(heard, WAV, model="whisper-1", api_key="sk-test")
        assert raised.value.reason == "malformed_response"


def test_transcription_usage_variants() -> None:
    assert transcription_usage(None) == allm.Usage()
    assert transcription_usage({"type": "duration", "duration": 2.5}).extra == {
        "audio_seconds": 2.5
    }
    assert transcription_usage({"type": "duration"}).extra == {}
    tokens = transcription_usage(
        {
            "type": "tokens",
            "input_tokens": 5,
            "output_tokens": 2,
            "input_token_details": {"audio_tokens": True},
        }
    )
    assert (tokens.input_tokens, tokens.output_tokens, tokens.total_tokens) == (5, 2, 7)
    assert tokens.extra == {}


def test_gemini_asks_for_words_context_and_temperature(audio: AudioDriver) -> None:
    answer = {
        "candidates": [{"content": {"parts": [{"text": json.dumps({
            "text": "hi there", "language": "EN",
            "segments": [{"start": 0, "end": 0.5, "text": "hi there"}],
            "words": [{"start": 0, "end": 0.2, "text": "hi"}, {"start": 0.2, "end": 0.5, "text": "there"}],
        })}], "role": "model"}, "finishReason": "STOP"}],
        "usageMetadata": {"promptTokenCount": 10, "candidatesTokenCount": 5, "totalTokenCount": 15},
    }  # fmt: skip
    server = Server(headers={"content-type": "application/json"}, body=answer)
    adapter = GeminiTranscription(base_url="https://proxy.example/v1beta")
    result = audio.transcribe(
        engine(server, transcription_adapter=adapter),
        WAV,
        model="models/gemini-2.5-pro",
        timestamps="word",
        prompt="Names: Ada.",
        temperature=0.1,
        api_key="gm-test",
    )
    [sent] = server.sent
    assert str(sent.url) == "https://proxy.example/v1beta/models/gemini-2.5-pro:generateContent"
    body = json.loads(sent.content)
    instruction = body["contents"][0]["parts"][0]["text"]
    assert "`words`" in instruction and "Names: Ada." in instruction
    assert body["generationConfig"]["temperature"] == 0.1
    assert body["generationConfig"]["responseSchema"] == transcription_schema("word")
    assert [w.text for w in result.words] == ["hi", "there"]
    assert result.language == "en" and "gemini_response_id" not in result.metadata
    assert result.usage.extra.get("audio_input_tokens") is None
    for bad in (
        {"segments": {}},
        {"words": [{"start": -1, "end": 1, "text": "x"}]},
        {"words": [3]},
    ):
        text = json.dumps({"text": "x", **bad})
        server.body = json.dumps(
            {
                **answer,
                "candidates": [
                    {
                        **answer["candidates"][0],
                        "content": {"parts": [{"text": text}], "role": "model"},
                    }
                ],
            }
        ).encode()
        with pytest.raises(allm.AdapterError) as raised:
            audio.transcribe(engine(server, transcription_adapter=adapter), WAV, api_key="gm-test")
        assert raised.value.reason == "malformed_response"


def test_fakes_reset_and_record_through_a_callable() -> None:
    seen: list[Any] = []
    speech = FakeSpeech()
    heard = FakeTranscription()
    assert repr(speech) == "FakeSpeech()"
    call = Call(
        request_id="r",
        engine=allm.Engine(),
        adapter_opts={"speech_script": [b"a"], "audio_record": lambda r, c: seen.append(r)},
    )
    request = allm.SpeechRequest(text="hi")
    plan = speech.synthesize(request, call)
    assert allm.execution._sync.run(plan).audio.data == b"a"
    speech.reset()
    assert allm.execution._sync.run(speech.synthesize(request, call)).audio.data == b"a"
    assert len(seen) == 2
    heard.reset()
    assert heard.max_audio_bytes() == 25 * 1024 * 1024
