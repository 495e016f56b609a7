"""Composes the audio wire transcripts in tests/fixtures/wire/{openai-speech,
openai-transcription,gemini-transcription}.

Run ``python tests/audio/compose_fixtures.py`` to rewrite them. Each case is three files, as in
tests/fixtures/wire/INDEX.md: ``<case>.request.json`` (what the adapter must send: a JSON body,
or the multipart form fields and file parts), the raw ``<case>.response`` body and
``<case>.expect.json`` (the status and headers to serve, the call's arguments, and the expected
result or error).

Sources: OpenAI speech and transcription request fields and answers as the OpenAI API reference
(api-reference/audio) and the official SDK types give them (openai-python
``src/openai/types/audio/speech_create_params.py``, ``transcription_create_params.py``,
``transcription.py``, ``transcription_verbose.py``, ``transcription_segment.py``,
``transcription_word.py``): speech answers raw audio with ``content-type: audio/mpeg`` (or the
format's type), sent chunked; ``verbose_json`` carries ``task``, ``language`` (an English name),
``duration``, ``text``, ``segments[]`` (``id``, ``seek``, ``start``, ``end``, ``text``, ``tokens``,
``temperature``, ``avg_logprob``, ``compression_ratio``, ``no_speech_prob``), ``words[]``
(``word``, ``start``, ``end``) and ``usage{type: "duration", seconds}``; the gpt-4o models answer
``{"text", "logprobs", "usage": {"type": "tokens", ...}}``. Error bodies and headers follow the
OpenAI fixtures in ../openai-chat (FORMATS.md §1); ``audio_too_short`` is the code OpenAI answers
an audio file under 0.1 s with. Gemini answers follow FORMATS.md §4 (generateContent bodies, error
documents with ``RetryInfo``), with ``promptTokensDetails`` per modality (audio is 32 tokens per
second). Audio is small synthetic WAV or MP3-framed bytes; ids are realistic but fake.
Expectations are written by hand.
"""

from __future__ import annotations

import hashlib
import io
import json
import struct
import wave
from pathlib import Path
from typing import Any

WIRE = Path(__file__).resolve().parents[1] / "fixtures" / "wire"
OPENAI = "https://api.openai.com/v1"
GEMINI = "https://generativelanguage.googleapis.com/v1beta"
SOURCE_OPENAI = (
    "Composed from the OpenAI API reference (api-reference/audio) and the official SDK types "
    "(openai-python src/openai/types/audio/); not recorded traffic."
)
SOURCE_GEMINI = (
    "Composed from the Gemini API reference (generateContent, audio understanding) and "
    "FORMATS.md section 4; not recorded traffic."
)
OPENAI_HEADERS = {
    "openai-organization": "acme-labs-7k2pq",
    "openai-processing-ms": "412",
    "openai-version": "2020-10-01",
}


def wav(duration_ms: int, frequency: int = 330) -> bytes:
    """A small 8 kHz mono WAV (a square-ish tone; silence when ``frequency`` is 0)."""
    rate = 8_000
    frames = rate * duration_ms // 1000
    period = rate // frequency if frequency else 0
    samples = [
        (6000 if (index // (period // 2)) % 2 else -6000) if period else 0
        for index in range(frames)
    ]
    out = io.BytesIO()
    with wave.open(out, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(rate)
        writer.writeframes(struct.pack(f"<{frames}h", *samples))
    return out.getvalue()


def mp3_frames(count: int) -> bytes:
    """Bytes shaped like MPEG-1 Layer III: an ID3v2 tag, then frames of 417 bytes (128 kbit/s,
    44.1 kHz) whose payload is a fixed pattern. Not decodable; enough for a byte-exact test."""
    tag = b"ID3\x04\x00\x00\x00\x00\x00\x00"
    frame = b"\xff\xfb\x90\x64" + bytes((index * 7) % 251 for index in range(413))
    return tag + frame * count


SPEECH_MP3 = mp3_frames(12)
SPEECH_WAV = wav(600, 440)
HELLO_WAV = wav(2200)
EMPTY_WAV = wav(0)
AUDIO_FILES = {"hello.wav": HELLO_WAV, "empty.wav": EMPTY_WAV}


def audio_ref(audio: bytes) -> dict[str, Any]:
    """How a request file names its audio: the fixture file, its size and hash."""
    name = next(name for name, data in AUDIO_FILES.items() if data == audio)
    return {
        "fixture": f"audio/{name}",
        "bytes": len(audio),
        "sha256": hashlib.sha256(audio).hexdigest(),
    }


def write(
    folder: str, case: str, request: dict[str, Any], body: bytes, expect: dict[str, Any]
) -> None:
    root = WIRE / folder
    root.mkdir(parents=True, exist_ok=True)
    (root / f"{case}.request.json").write_text(json.dumps(request, indent=2) + "\n")
    (root / f"{case}.response").write_bytes(body)
    (root / f"{case}.expect.json").write_text(
        json.dumps({"case": case, "provider": folder, **expect}, indent=2) + "\n"
    )


def pretty(document: Any) -> bytes:
    return (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode()


def openai_error(message: str, kind: str, code: str | None, param: str | None = None) -> bytes:
    return pretty({"error": {"message": message, "type": kind, "param": param, "code": code}})


def openai_headers(request_id: str, content_type: str, **extra: str) -> dict[str, str]:
    return {"content-type": content_type, "x-request-id": request_id, **OPENAI_HEADERS, **extra}


# -- OpenAI speech ---------------------------------------------------------------------------------


def speech_request(**body: Any) -> dict[str, Any]:
    return {
        "method": "POST",
        "url": f"{OPENAI}/audio/speech",
        "headers": {
            "Authorization": "Bearer ${OPENAI_API_KEY}",
            "Content-Type": "application/json",
        },
        "body": body,
    }


def compose_speech() -> None:
    folder = "openai-speech"
    hello = {"model": "gpt-4o-mini-tts", "input": "Hello from allm.", "voice": "alloy"}
    write(
        folder,
        "speech_mp3",
        speech_request(**hello, response_format="mp3"),
        SPEECH_MP3,
        {
            "call": {
                "text": "Hello from allm.",
                "voice": "alloy",
                "format": "mp3",
                "model": "gpt-4o-mini-tts",
            },
            "http": {
                "status": 200,
                "headers": openai_headers("req_5e1f0c2a9b8d7e6f5a4b3c2d1e0f9a8b", "audio/mpeg"),
            },
            "transport": {"chunk_boundaries": [10, 427, 1000, 3000]},
            "audio": {"mime_type": "audio/mpeg", "bytes": len(SPEECH_MP3)},
            "usage": {"input_characters": 16},
            "notes": [SOURCE_OPENAI, "The answer is the audio itself, streamed as it is made."],
        },
    )
    steer = {"model": "gpt-4o-mini-tts", "input": "Read this slowly.", "voice": "coral"}
    write(
        folder,
        "speech_wav_instructions",
        speech_request(**steer, response_format="wav", instructions="Calm and warm.", speed=0.9),
        SPEECH_WAV,
        {
            "call": {
                "text": "Read this slowly.",
                "voice": "coral",
                "format": "wav",
                "model": "gpt-4o-mini-tts",
                "instructions": "Calm and warm.",
                "speed": 0.9,
            },
            "http": {
                "status": 200,
                "headers": openai_headers("req_6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d", "audio/wav"),
            },
            "transport": {"chunk_boundaries": [44, 4096, 9000]},
            "audio": {"mime_type": "audio/wav", "bytes": len(SPEECH_WAV)},
            "usage": {"input_characters": 17},
            "notes": [
                SOURCE_OPENAI,
                "instructions steer gpt-4o-mini-tts; tts-1 models refuse them.",
            ],
        },
    )
    write(
        folder,
        "error_400_invalid_voice",
        speech_request(model="tts-1", input="Hi.", voice="robot", response_format="mp3"),
        openai_error(
            "Invalid value: 'robot'. Supported values are: 'alloy', 'ash', 'ballad', 'coral', "
            "'echo', 'fable', 'onyx', 'nova', 'sage', 'shimmer' and 'verse'.",
            "invalid_request_error",
            "invalid_value",
            "voice",
        ),
        {
            "call": {"text": "Hi.", "voice": "robot", "format": "mp3", "model": "tts-1"},
            "http": {
                "status": 400,
                "headers": openai_headers(
                    "req_0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e", "application/json"
                ),
            },
            "error": {
                "reason": "invalid_request",
                "status": 400,
                "openai_code": "invalid_value",
                "retryable": False,
            },
            "notes": [SOURCE_OPENAI, "An unknown voice is the API's to reject: new voices appear."],
        },
    )
    write(
        folder,
        "error_429_rate_limit",
        speech_request(**hello, response_format="mp3"),
        openai_error(
            "Rate limit reached for tts-1 in organization org-3fQk9XJmW2bLrT8vYc1NhAzs on requests "
            "per min (RPM): Limit 50, Used 50, Requested 1. Please try again in 1.2s.",
            "requests",
            "rate_limit_exceeded",
        ),
        {
            "call": {
                "text": "Hello from allm.",
                "voice": "alloy",
                "format": "mp3",
                "model": "gpt-4o-mini-tts",
            },
            "http": {
                "status": 429,
                "headers": openai_headers(
                    "req_1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f",
                    "application/json",
                    **{"retry-after-ms": "1200"},
                ),
            },
            "error": {
                "reason": "rate_limited",
                "status": 429,
                "openai_code": "rate_limit_exceeded",
                "retry_after_ms": 1200,
                "retryable": True,
            },
            "then": "speech_mp3",
            "notes": [SOURCE_OPENAI],
        },
    )
    write(
        folder,
        "malformed_html_200",
        speech_request(**hello, response_format="mp3"),
        b"<html><body><h1>Welcome to the captive portal</h1></body></html>\n",
        {
            "call": {
                "text": "Hello from allm.",
                "voice": "alloy",
                "format": "mp3",
                "model": "gpt-4o-mini-tts",
            },
            "http": {"status": 200, "headers": {"content-type": "text/html; charset=utf-8"}},
            "error": {"reason": "malformed_response", "status": 200, "retryable": False},
            "notes": ["SYNTHETIC: a proxy's page where audio was due."],
        },
    )
    write(
        folder,
        "empty_body_200",
        speech_request(**hello, response_format="mp3"),
        b"",
        {
            "call": {
                "text": "Hello from allm.",
                "voice": "alloy",
                "format": "mp3",
                "model": "gpt-4o-mini-tts",
            },
            "http": {
                "status": 200,
                "headers": openai_headers("req_2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a", "audio/mpeg"),
            },
            "error": {"reason": "malformed_response", "status": 200, "retryable": False},
            "notes": [
                "SYNTHETIC: a 200 that ends before any audio is an error, never empty speech."
            ],
        },
    )
    write(
        folder,
        "error_429_insufficient_quota",
        speech_request(**hello, response_format="mp3"),
        openai_error(
            "You exceeded your current quota, please check your plan and billing details.",
            "insufficient_quota",
            "insufficient_quota",
        ),
        {
            "call": {
                "text": "Hello from allm.",
                "voice": "alloy",
                "format": "mp3",
                "model": "gpt-4o-mini-tts",
            },
            "http": {
                "status": 429,
                "headers": openai_headers(
                    "req_3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b", "application/json"
                ),
            },
            "error": {
                "reason": "quota_exhausted",
                "status": 429,
                "openai_code": "insufficient_quota",
                "retryable": False,
            },
            "notes": [SOURCE_OPENAI, "A billing stop: never retried."],
        },
    )


# -- OpenAI transcription --------------------------------------------------------------------------


def transcription_request(
    fields: list[list[str]], audio: bytes, filename: str = "audio.wav"
) -> dict[str, Any]:
    return {
        "method": "POST",
        "url": f"{OPENAI}/audio/transcriptions",
        "headers": {
            "Authorization": "Bearer ${OPENAI_API_KEY}",
            "Content-Type": "multipart/form-data; boundary=<any>",
        },
        "multipart": {
            "fields": fields,
            "files": [
                {
                    "name": "file",
                    "filename": filename,
                    "content_type": "audio/wav",
                    **audio_ref(audio),
                }
            ],
        },
    }


def segment(index: int, start: float, end: float, text: str, logprob: float) -> dict[str, Any]:
    return {
        "id": index,
        "seek": 0,
        "start": start,
        "end": end,
        "text": text,
        "tokens": [50364 + index, 2425, 490, 439, 13],
        "temperature": 0.0,
        "avg_logprob": logprob,
        "compression_ratio": 0.84,
        "no_speech_prob": 0.0123,
    }


def compose_transcription() -> None:
    folder = "openai-transcription"
    text = "Hello from allm. It speaks every provider."
    segments = [
        segment(0, 0.0, 1.1, " Hello from allm.", -0.21),
        segment(1, 1.1, 2.2, " It speaks every provider.", -0.34),
    ]
    verbose = {
        "task": "transcribe",
        "language": "english",
        "duration": 2.2,
        "text": text,
        "segments": segments,
        "usage": {"type": "duration", "seconds": 3},
    }
    base_fields = [["model", "whisper-1"], ["response_format", "verbose_json"]]
    write(
        folder,
        "verbose_json_segments",
        transcription_request(
            [*base_fields, ["language", "en"], ["timestamp_granularities[]", "segment"]], HELLO_WAV
        ),
        pretty(verbose),
        {
            "call": {"model": "whisper-1", "language": "en", "timestamps": "segment"},
            "audio": "hello",
            "http": {
                "status": 200,
                "headers": openai_headers(
                    "req_4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c", "application/json"
                ),
            },
            "transcription": {
                "text": text,
                "language": "en",
                "duration_ms": 2200,
                "segments": [
                    [0, 1100, "Hello from allm.", -0.21],
                    [1100, 2200, "It speaks every provider.", -0.34],
                ],
                "words": [],
                "usage_extra": {"audio_seconds": 3.0},
                "provider_language": "english",
            },
            "notes": [SOURCE_OPENAI, "verbose_json names the language in English."],
        },
    )
    words = [
        {"word": "Hello", "start": 0.0, "end": 0.42},
        {"word": "from", "start": 0.42, "end": 0.61},
        {"word": "allm", "start": 0.61, "end": 1.02},
        {"word": "It", "start": 1.18, "end": 1.3},
        {"word": "speaks", "start": 1.3, "end": 1.62},
        {"word": "every", "start": 1.62, "end": 1.86},
        {"word": "provider", "start": 1.86, "end": 2.2},
    ]
    write(
        folder,
        "verbose_json_words",
        transcription_request(
            [
                *base_fields,
                ["timestamp_granularities[]", "word"],
                ["timestamp_granularities[]", "segment"],
            ],
            HELLO_WAV,
        ),
        pretty({**verbose, "words": words}),
        {
            "call": {"model": "whisper-1", "timestamps": "word"},
            "audio": "hello",
            "http": {
                "status": 200,
                "headers": openai_headers(
                    "req_5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d", "application/json"
                ),
            },
            "transcription": {
                "text": text,
                "language": "en",
                "duration_ms": 2200,
                "segments": [
                    [0, 1100, "Hello from allm.", -0.21],
                    [1100, 2200, "It speaks every provider.", -0.34],
                ],
                "words": [
                    [0, 420, "Hello", None],
                    [420, 610, "from", None],
                    [610, 1020, "allm", None],
                    [1180, 1300, "It", None],
                    [1300, 1620, "speaks", None],
                    [1620, 1860, "every", None],
                    [1860, 2200, "provider", None],
                ],
                "usage_extra": {"audio_seconds": 3.0},
                "provider_language": "english",
            },
            "notes": [
                SOURCE_OPENAI,
                "Word timestamps need timestamp_granularities[]=word; segment is asked for too (no extra latency).",
            ],
        },
    )
    write(
        folder,
        "json_gpt4o_transcribe",
        transcription_request(
            [
                ["model", "gpt-4o-transcribe"],
                ["response_format", "json"],
                ["prompt", "allm is a library."],
            ],
            HELLO_WAV,
        ),
        pretty(
            {
                "text": text,
                "usage": {
                    "type": "tokens",
                    "input_tokens": 84,
                    "input_token_details": {"text_tokens": 6, "audio_tokens": 78},
                    "output_tokens": 11,
                    "total_tokens": 95,
                },
            }
        ),
        {
            "call": {"model": "gpt-4o-transcribe", "prompt": "allm is a library."},
            "audio": "hello",
            "http": {
                "status": 200,
                "headers": openai_headers(
                    "req_6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e", "application/json"
                ),
            },
            "transcription": {
                "text": text,
                "language": None,
                "duration_ms": 2200,
                "segments": [],
                "words": [],
                "usage": {"input_tokens": 84, "output_tokens": 11, "total_tokens": 95},
                "usage_extra": {"audio_input_tokens": 78, "text_input_tokens": 6},
            },
            "notes": [SOURCE_OPENAI, "gpt-4o-transcribe answers json only, with token usage."],
        },
    )
    write(
        folder,
        "error_400_audio_too_short",
        transcription_request(base_fields, EMPTY_WAV),
        openai_error(
            "Audio file is too short. Minimum audio length is 0.1 seconds.",
            "invalid_request_error",
            "audio_too_short",
            "file",
        ),
        {
            "call": {"model": "whisper-1"},
            "audio": "empty",
            "http": {
                "status": 400,
                "headers": openai_headers(
                    "req_7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f", "application/json"
                ),
            },
            "error": {
                "reason": "invalid_request",
                "status": 400,
                "openai_code": "audio_too_short",
                "retryable": False,
            },
            "notes": [
                SOURCE_OPENAI,
                "An empty audio file: a valid WAV header with no samples (a zero-byte file never leaves the client).",
            ],
        },
    )
    write(
        folder,
        "error_429_rate_limit",
        transcription_request(
            [*base_fields, ["language", "en"], ["timestamp_granularities[]", "segment"]], HELLO_WAV
        ),
        openai_error(
            "Rate limit reached for whisper-1 in organization org-3fQk9XJmW2bLrT8vYc1NhAzs on "
            "requests per min (RPM): Limit 50, Used 50, Requested 1. Please try again in 2s.",
            "requests",
            "rate_limit_exceeded",
        ),
        {
            "call": {"model": "whisper-1", "language": "en", "timestamps": "segment"},
            "audio": "hello",
            "http": {
                "status": 429,
                "headers": openai_headers(
                    "req_8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a",
                    "application/json",
                    **{"retry-after": "2"},
                ),
            },
            "error": {
                "reason": "rate_limited",
                "status": 429,
                "openai_code": "rate_limit_exceeded",
                "retry_after_ms": 2000,
                "retryable": True,
            },
            "then": "verbose_json_segments",
            "notes": [SOURCE_OPENAI],
        },
    )
    write(
        folder,
        "malformed_no_text",
        transcription_request(base_fields, HELLO_WAV),
        pretty({"task": "transcribe", "language": "english", "duration": 2.2, "segments": []}),
        {
            "call": {"model": "whisper-1"},
            "audio": "hello",
            "http": {
                "status": 200,
                "headers": openai_headers(
                    "req_9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b", "application/json"
                ),
            },
            "error": {"reason": "malformed_response", "status": 200, "retryable": False},
            "notes": [
                "SYNTHETIC: a body without its text is unreadable, never an empty transcript."
            ],
        },
    )
    write(
        folder,
        "error_400_invalid_format",
        {
            **transcription_request(base_fields, HELLO_WAV),
            "note": "the file part is sent as audio/wav; the server rejects its content",
        },
        openai_error(
            "Invalid file format. Supported formats: ['flac', 'm4a', 'mp3', 'mp4', 'mpeg', 'mpga', 'oga', 'ogg', 'wav', 'webm']",
            "invalid_request_error",
            None,
        ),
        {
            "call": {"model": "whisper-1"},
            "audio": "hello",
            "http": {
                "status": 400,
                "headers": openai_headers(
                    "req_0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c", "application/json"
                ),
            },
            "error": {"reason": "invalid_request", "status": 400, "retryable": False},
            "notes": [SOURCE_OPENAI],
        },
    )


# -- Gemini transcription --------------------------------------------------------------------------


def gemini_answer(text: str, finish: str = "STOP", audio_tokens: int = 70) -> bytes:
    return pretty(
        {
            "candidates": [
                {
                    "content": {"parts": [{"text": text}], "role": "model"},
                    "finishReason": finish,
                    "index": 0,
                }
            ],
            "usageMetadata": {
                "promptTokenCount": audio_tokens + 64,
                "candidatesTokenCount": 38,
                "totalTokenCount": audio_tokens + 102,
                "promptTokensDetails": [
                    {"modality": "TEXT", "tokenCount": 64},
                    {"modality": "AUDIO", "tokenCount": audio_tokens},
                ],
            },
            "modelVersion": "gemini-2.5-flash",
            "responseId": "mK4xaZ3nLpqz7M8PkvW9sQ4",
        }
    )


def gemini_request(timestamps: str | None, audio: bytes) -> dict[str, Any]:
    return {
        "method": "POST",
        "url": f"{GEMINI}/models/gemini-2.5-flash:generateContent",
        "headers": {"x-goog-api-key": "${GEMINI_API_KEY}", "Content-Type": "application/json"},
        "body": {
            "contents": [
                {
                    "role": "user",
                    "parts": [
                        {"text": "<the transcription instruction>"},
                        {
                            "inlineData": {
                                "mimeType": "audio/wav",
                                "data": {"base64_of": audio_ref(audio)},
                            }
                        },
                    ],
                }
            ],
            "generationConfig": {"responseMimeType": "application/json", "timestamps": timestamps},
        },
    }


def google_error(code: int, status: str, message: str, *details: dict[str, Any]) -> bytes:
    error: dict[str, Any] = {"code": code, "message": message, "status": status}
    if details:
        error["details"] = list(details)
    return pretty({"error": error})


def compose_gemini() -> None:
    folder = "gemini-transcription"
    text = "Hello from allm. It speaks every provider."
    json_headers = {
        "content-type": "application/json; charset=UTF-8",
        "server-timing": "gfet4t7; dur=1874",
    }
    write(
        folder,
        "transcript_plain",
        gemini_request(None, HELLO_WAV),
        gemini_answer(json.dumps({"language": "en", "text": text})),
        {
            "call": {"model": "gemini-2.5-flash"},
            "audio": "hello",
            "http": {"status": 200, "headers": json_headers},
            "transcription": {
                "text": text,
                "language": "en",
                "duration_ms": 2200,
                "segments": [],
                "words": [],
                "usage": {"input_tokens": 134, "output_tokens": 38, "total_tokens": 172},
                "usage_extra": {"audio_input_tokens": 70},
            },
            "notes": [SOURCE_GEMINI],
        },
    )
    spans = {
        "language": "en",
        "text": text,
        "segments": [
            {"start": 0.0, "end": 1.1, "text": "Hello from allm."},
            {"start": 1.1, "end": 2.2, "text": "It speaks every provider."},
        ],
    }
    write(
        folder,
        "transcript_segments",
        gemini_request("segment", HELLO_WAV),
        gemini_answer(json.dumps(spans)),
        {
            "call": {"model": "gemini-2.5-flash", "timestamps": "segment", "language": "en"},
            "audio": "hello",
            "http": {"status": 200, "headers": json_headers},
            "transcription": {
                "text": text,
                "language": "en",
                "duration_ms": 2200,
                "segments": [
                    [0, 1100, "Hello from allm.", None],
                    [1100, 2200, "It speaks every provider.", None],
                ],
                "words": [],
                "usage": {"input_tokens": 134, "output_tokens": 38, "total_tokens": 172},
                "usage_extra": {"audio_input_tokens": 70},
            },
            "notes": [
                SOURCE_GEMINI,
                "Segments follow the response schema; their times are the model's estimates.",
            ],
        },
    )
    write(
        folder,
        "empty_audio",
        gemini_request(None, EMPTY_WAV),
        gemini_answer(json.dumps({"language": "en", "text": ""}), audio_tokens=0),
        {
            "call": {"model": "gemini-2.5-flash"},
            "audio": "empty",
            "http": {"status": 200, "headers": json_headers},
            "transcription": {
                "text": "",
                "language": "en",
                "duration_ms": 0,
                "segments": [],
                "words": [],
                "usage": {"input_tokens": 64, "output_tokens": 38, "total_tokens": 102},
                "usage_extra": {"audio_input_tokens": 0},
            },
            "notes": [
                SOURCE_GEMINI,
                "An empty audio file (a WAV header, no samples): Gemini answers an empty transcript.",
            ],
        },
    )
    write(
        folder,
        "error_400_invalid_argument",
        gemini_request(None, HELLO_WAV),
        google_error(
            400,
            "INVALID_ARGUMENT",
            "Unable to process input audio. Please retry or report in https://developers.generativeai.google/guide/troubleshooting",
        ),
        {
            "call": {"model": "gemini-2.5-flash"},
            "audio": "hello",
            "http": {"status": 400, "headers": json_headers},
            "error": {"reason": "invalid_request", "status": 400, "retryable": False},
            "notes": [SOURCE_GEMINI],
        },
    )
    write(
        folder,
        "error_429_resource_exhausted",
        gemini_request(None, HELLO_WAV),
        google_error(
            429,
            "RESOURCE_EXHAUSTED",
            "You exceeded your current quota, please check your plan and billing details. Please retry in 1.5s.",
            {
                "@type": "type.googleapis.com/google.rpc.QuotaFailure",
                "violations": [
                    {
                        "quotaMetric": "generativelanguage.googleapis.com/generate_content_free_tier_requests",
                        "quotaId": "GenerateRequestsPerMinutePerProjectPerModel-FreeTier",
                    }
                ],
            },
            {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "1.5s"},
        ),
        {
            "call": {"model": "gemini-2.5-flash"},
            "audio": "hello",
            "http": {"status": 429, "headers": json_headers},
            "error": {
                "reason": "rate_limited",
                "status": 429,
                "retry_after_ms": 1500,
                "retryable": True,
            },
            "then": "transcript_plain",
            "notes": [SOURCE_GEMINI, "The retry delay is only in RetryInfo.retryDelay."],
        },
    )
    write(
        folder,
        "malformed_not_json",
        gemini_request(None, HELLO_WAV),
        gemini_answer("Sure! Here is the transcript: Hello from allm."),
        {
            "call": {"model": "gemini-2.5-flash"},
            "audio": "hello",
            "http": {"status": 200, "headers": json_headers},
            "error": {"reason": "malformed_response", "status": 200, "retryable": False},
            "notes": ["SYNTHETIC: an answer that is not the schema's JSON."],
        },
    )
    write(
        folder,
        "safety_blocked",
        gemini_request(None, HELLO_WAV),
        pretty(
            {
                "candidates": [
                    {
                        "content": {},
                        "finishReason": "SAFETY",
                        "index": 0,
                        "safetyRatings": [
                            {
                                "category": "HARM_CATEGORY_HARASSMENT",
                                "probability": "HIGH",
                                "blocked": True,
                            }
                        ],
                    }
                ],
                "usageMetadata": {"promptTokenCount": 134, "totalTokenCount": 134},
                "modelVersion": "gemini-2.5-flash",
                "responseId": "nL5yaZ4oMqr08N9QlwX0tR5",
            }
        ),
        {
            "call": {"model": "gemini-2.5-flash"},
            "audio": "hello",
            "http": {"status": 200, "headers": json_headers},
            "error": {"reason": "content_filter", "status": 200, "retryable": False},
            "notes": [
                SOURCE_GEMINI,
                "Blocked output: content {} with finishReason SAFETY (FORMATS.md section 4).",
            ],
        },
    )
    write(
        folder,
        "max_tokens_cut",
        gemini_request(None, HELLO_WAV),
        gemini_answer('{"language": "en", "text": "Hello from al', finish="MAX_TOKENS"),
        {
            "call": {"model": "gemini-2.5-flash", "maxOutputTokens": 8},
            "audio": "hello",
            "http": {"status": 200, "headers": json_headers},
            "error": {"reason": "malformed_response", "status": 200, "retryable": False},
            "notes": [
                SOURCE_GEMINI,
                "A transcript cut by the output limit is an error, never a short transcript.",
            ],
        },
    )


if __name__ == "__main__":
    (WIRE / "audio").mkdir(parents=True, exist_ok=True)
    for name, data in AUDIO_FILES.items():
        (WIRE / "audio" / name).write_bytes(data)
    compose_speech()
    compose_transcription()
    compose_gemini()
