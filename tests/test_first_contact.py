"""What a new user meets first: names importable where the docs say, a tool that raises is
logged for the developer (and still reported to the model), ``otel`` reachable as an attribute."""

from __future__ import annotations

import logging
import subprocess
import sys

import anyio
import pytest

import allm
from allm.providers.fake import finish, text, tool_call


def _raising_engine(handler: object) -> allm.Engine:
    tool = allm.Tool("explode", "Fails.", {"type": "object", "properties": {}}, handler=handler)
    return allm.Engine(
        adapter="fake",
        tools=[tool],
        adapter_opts={
            "scripts": [
                [tool_call(id="call-1", name="explode", arguments={}), finish("tool_calls")],
                [text("recovered"), finish("stop")],
            ]
        },
    )


def _sync_boom(arguments: dict[str, object]) -> object:
    raise RuntimeError("the disk is full")


async def _async_boom(arguments: dict[str, object]) -> object:
    raise RuntimeError("the disk is full")


@pytest.mark.parametrize("api", ["sync", "async"])
def test_a_raising_tool_is_logged_at_warning_with_its_traceback(
    api: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="allm")
    if api == "sync":
        result = allm.chat(_raising_engine(_sync_boom), [allm.user("go")])
    else:
        result = anyio.run(allm.achat, _raising_engine(_async_boom), [allm.user("go")])
    # still sent to the model, as before
    assert result.thread.messages[2].content == '{"error":"RuntimeError: the disk is full"}'
    assert result.text == "recovered"
    (record,) = [r for r in caplog.records if r.name == "allm" and r.levelno == logging.WARNING]
    assert "tool 'explode' raised RuntimeError (call call-1)" in record.getMessage()
    assert record.exc_info is not None and record.exc_info[0] is RuntimeError
    assert "_boom" in caplog.text  # the handler's frame is in the logged traceback


def test_stream_collector_and_the_calls_import_from_allm_execution() -> None:
    from allm.execution import (
        AsyncEventStream,
        EventStream,
        StreamCollector,
        agenerate,
        generate,
        stream_generate,
        unwrap,
    )

    assert StreamCollector is allm.StreamCollector
    assert (generate, agenerate, stream_generate, unwrap) == (
        allm.generate,
        allm.agenerate,
        allm.stream_generate,
        allm.unwrap,
    )
    assert EventStream is allm.EventStream and AsyncEventStream is allm.AsyncEventStream
    import allm.execution as execution

    assert "StreamCollector" in dir(execution)
    with pytest.raises(AttributeError):
        execution.nothing_here  # noqa: B018


def test_otel_is_an_attribute_of_telemetry_without_importing_it_first() -> None:
    code = (
        "import sys, allm\n"
        "assert 'opentelemetry' not in sys.modules\n"
        "allm.telemetry  # the package alone does not load OpenTelemetry\n"
        "assert 'opentelemetry' not in sys.modules\n"
        "allm.telemetry.otel.instrument()\n"
        "allm.telemetry.otel.uninstrument()\n"
        "print('ok')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
    with pytest.raises(AttributeError):
        allm.telemetry.nothing_here  # noqa: B018


@pytest.mark.parametrize(
    ("name", "options"),
    [
        ("generate", ("model", "temperature", "max_tokens", "api_key", "on_event", "streaming")),
        ("stream_generate", ("emit_text_deltas", "include_raw_chunks", "on_event", "temperature")),
        ("agenerate", ("temperature", "api_key")),
        ("chat", ("mode", "max_turns", "halt_when", "on_tool_error", "tool_timeout", "context")),
        ("stream", ("max_turns", "on_tool_error")),
        ("step", ("mode", "on_tool_error")),
        ("achat", ("see ``chat``",)),
        ("generate_image", ("size", "quality", "n", "api_key")),
        ("tool", ("name", "description", "schema", "handler", "manual")),
        ("configure", ("keys", "load_dotenv", "catalog")),
    ],
)
def test_help_on_the_main_functions_shows_their_options(
    name: str, options: tuple[str, ...]
) -> None:
    doc = getattr(allm, name).__doc__ or ""
    missing = [option for option in options if option not in doc]
    assert not missing, f"help(allm.{name}) does not mention {missing}"


def test_session_operations_list_their_options() -> None:
    for name in ("start", "reply", "resume", "step"):
        doc = getattr(allm.sessions, name).__doc__ or ""
        assert "**opts" in doc, name
        assert "options of ``allm.chat``" in doc or "options of ``allm.step``" in doc, name
