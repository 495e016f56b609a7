"""FakeSpeech and FakeTranscription: deterministic, scripted audio adapters for tests and examples.

With no script they are deterministic: the same input gives the same output. ``FakeSpeech``
answers a ``wav`` or ``pcm`` request with a real tone (16-bit mono, 24 kHz, 40 ms per character
of text, its pitch taken from the text and the voice) and any other format with placeholder bytes
derived from the same inputs (labelled with the format's MIME type, not decodable).
``FakeTranscription`` answers ``"fake transcript of <n> bytes"`` with the audio's length when it
is a WAV file, and evenly spaced segments and words when timestamps are asked for.

A script, in ``adapter_opts["speech_script"]`` / ``["transcription_script"]`` (else
``adapter_opts["script"]``), replays one entry per call::

    SpeechResponse(...) | Audio(...) | b"bytes"        FakeSpeech: this call's audio
    Transcription(...) | "text"                        FakeTranscription: this call's result
    error("rate_limited", retry_after_ms=0)            this call fails (allm.providers.fake.error)
    ("error", "timeout")                               the same, as a tuple

A call past the end of a script fails with ``AdapterError("no_scripted_response")``. Each engine
has its own cursor (``audio_script_cursor``, a ``ScriptCursor``, shares one). ``audio_record``
(a list or a callable) receives ``(request, call)`` on every call. ``chunk_size`` (bytes, default
1024) cuts a streamed answer into chunks.
"""

from __future__ import annotations

from ..fake import ScriptCursor, error
from .adapter import FakeSpeech, FakeTranscription
from .script import tone

__all__ = ["FakeSpeech", "FakeTranscription", "ScriptCursor", "error", "tone"]
