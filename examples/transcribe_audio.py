"""Transcribe a WAV file with word timestamps, offline: a small WAV made with the stdlib ``wave``
module, sent to the OpenAI transcription adapter whose HTTP answer is a recorded ``verbose_json``
body (an ``httpx.MockTransport``), so no key and no network are needed.

python examples/transcribe_audio.py [output-directory]

Drop the ``adapter_opts`` and set OPENAI_API_KEY to ask OpenAI for real: the call and the result
are the same.
"""

from __future__ import annotations

import json
import math
import struct
import sys
import tempfile
import wave
from pathlib import Path

import httpx

import allm

folder = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp(prefix="allm-"))
folder.mkdir(parents=True, exist_ok=True)
path = folder / "greeting.wav"
with wave.open(str(path), "wb") as out:  # one second of a 440 Hz tone, 16 kHz mono
    out.setnchannels(1)
    out.setsampwidth(2)
    out.setframerate(16_000)
    out.writeframes(
        b"".join(
            struct.pack("<h", round(6000 * math.sin(2 * math.pi * 440 * i / 16_000)))
            for i in range(16_000)
        )
    )

# What OpenAI answers whisper-1 with response_format=verbose_json and word timestamps.
RECORDED = {
    "task": "transcribe",
    "language": "english",
    "duration": 1.0,
    "text": "Hello world.",
    "segments": [{"id": 0, "start": 0.0, "end": 1.0, "text": " Hello world.", "avg_logprob": -0.2}],
    "words": [
        {"word": "Hello", "start": 0.0, "end": 0.48},
        {"word": "world", "start": 0.48, "end": 1.0},
    ],
    "usage": {"type": "duration", "seconds": 1},
}


def answer(request: httpx.Request) -> httpx.Response:
    assert request.url.path == "/v1/audio/transcriptions"
    return httpx.Response(200, json=RECORDED, headers={"x-request-id": "req_example"})


engine = allm.Engine(
    transcription_adapter="openai_transcription",
    transcription_model="whisper-1",
    adapter_opts={"http_client": httpx.Client(transport=httpx.MockTransport(answer))},
)
result = allm.transcribe(engine, path, timestamps="word", api_key="sk-example")

print(f"text: {result.text!r}, language: {result.language}, duration_ms: {result.duration_ms}")
for word in result.words:
    print(f"{word.start_ms:>5} {word.end_ms:>5} {word.text}")
saved = folder / "greeting.json"
saved.write_text(json.dumps(json.loads(allm.to_json(result)), indent=2))
print(saved)
