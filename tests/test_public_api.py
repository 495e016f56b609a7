"""The public surface as a tested contract: names, twin signatures, layering, the demo."""

from __future__ import annotations

import inspect
import io
import subprocess
import sys

import pytest

import allm
from allm import __main__ as demo

TWINS = [
    ("generate", "agenerate"),
    ("stream_generate", "astream_generate"),
    ("step", "astep"),
    ("stream_step", "astream_step"),
    ("chat", "achat"),
    ("stream", "astream"),
    ("generate_image", "agenerate_image"),
    ("edit_image", "aedit_image"),
    ("image_variation", "aimage_variation"),
    ("embed", "aembed"),
    ("moderate", "amoderate"),
    ("synthesize", "asynthesize"),
    ("stream_synthesize", "astream_synthesize"),
    ("transcribe", "atranscribe"),
]
SESSION_TWINS = [
    ("start", "astart"),
    ("reply", "areply"),
    ("resume", "aresume"),
    ("step", "astep"),
    ("stream_start", "astream_start"),
    ("stream_reply", "astream_reply"),
    ("stream_resume", "astream_resume"),
    ("stream_step", "astream_step"),
]


def test_all_is_sorted_and_every_name_resolves() -> None:
    assert allm.__all__ == sorted(allm.__all__)
    for name in allm.__all__:
        assert getattr(allm, name) is not None, name


def test_unknown_attribute_raises_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no_such_name"):
        allm.no_such_name  # noqa: B018


def test_dir_lists_lazy_names_and_submodules() -> None:
    listing = dir(allm)
    assert "generate" in listing and "providers" in listing


@pytest.mark.parametrize(("sync_name", "async_name"), TWINS)
def test_sync_and_async_twins_have_identical_signatures(sync_name: str, async_name: str) -> None:
    sync_fn, async_fn = getattr(allm, sync_name), getattr(allm, async_name)
    assert inspect.signature(sync_fn).parameters == inspect.signature(async_fn).parameters
    assert inspect.iscoroutinefunction(async_fn) and not inspect.iscoroutinefunction(sync_fn)
    assert inspect.signature(sync_fn).return_annotation != inspect.Parameter.empty


@pytest.mark.parametrize(("sync_name", "async_name"), SESSION_TWINS)
def test_session_twins_have_identical_signatures(sync_name: str, async_name: str) -> None:
    from allm import sessions

    sync_fn, async_fn = getattr(sessions, sync_name), getattr(sessions, async_name)
    assert inspect.signature(sync_fn).parameters == inspect.signature(async_fn).parameters


def _fresh(code: str) -> str:
    return subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    ).stdout.strip()


def test_import_allm_loads_no_io_library() -> None:
    out = _fresh(
        "import sys, allm; print(sorted(m for m in ('httpx','anyio','asyncio') if m in sys.modules))"
    )
    assert out == "[]"


def test_layer_a_and_a_sync_fake_call_load_no_io_library() -> None:
    code = (
        "import sys, allm, allm.codec, allm.validate, allm.events\n"
        "from allm.providers.fake import text\n"
        "e = allm.Engine(adapter='fake', adapter_opts={'script': [text('hi')]})\n"
        "r = allm.generate(e, [allm.user('x')]); allm.to_json(r)\n"
        "print(sorted(m for m in ('httpx','anyio','asyncio') if m in sys.modules))"
    )
    assert _fresh(code) == "[]"


def test_a_sync_fake_audio_call_loads_no_io_library() -> None:
    code = (
        "import sys, allm\n"
        "e = allm.Engine(speech_adapter='fake_speech', transcription_adapter='fake_transcription')\n"
        "s = allm.synthesize(e, 'hi', format='wav'); allm.transcribe(e, s.audio)\n"
        "b''.join(allm.stream_synthesize(e, 'hi'))\n"
        "print(sorted(m for m in ('httpx','anyio','asyncio') if m in sys.modules))"
    )
    assert _fresh(code) == "[]"


def test_the_offline_demo_streams_reports_usage_and_folds_an_error() -> None:
    out = io.StringIO()
    assert demo.main(out) == 0
    text = out.getvalue()
    assert "Streaming is the primitive; generate is a fold." in text
    assert "input=12 output=9 total=21" in text
    assert "text kept      = 'Half an answer before'" in text
    assert "finish_reason  = error" in text
    assert "RateLimitError" in text


def test_python_dash_m_allm_runs_offline() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "allm"], check=True, capture_output=True, text=True
    )
    assert "finish_reason=stop" in result.stdout


@pytest.mark.parametrize("script", ["stream_and_fold.py", "agent_ask_user.py"])
def test_examples_run_offline(script: str) -> None:
    result = subprocess.run(
        [sys.executable, f"examples/{script}"], check=True, capture_output=True, text=True
    )
    assert result.stdout.strip()
    if script == "agent_ask_user.py":
        assert "halted: ask_user; question: 'Book AF123?'" in result.stdout
        assert "answer: 'Booked AF123, leaving 08:10.'" in result.stdout
