"""``allm "prompt"``: the Fake by default, stdin, streaming, --json, -m, -s, -o, -a, -u, errors."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from allm.testing.loopback import LoopbackServer

from .conftest import TEST_KEY, Home, one_line_error, openai_at, refuse

FAKE_NOTE = "answering with the offline Fake provider"


def openai_sse(*pieces: str, prompt_tokens: int = 10, completion_tokens: int = 2) -> bytes:
    """A Chat Completions stream saying ``pieces``, then its usage."""
    chunks = [
        {
            "id": "c1",
            "object": "chat.completion.chunk",
            "model": "gpt-4o-mini",
            "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}],
        }
        for piece in pieces
    ]
    chunks.append(
        {
            "id": "c1",
            "object": "chat.completion.chunk",
            "model": "gpt-4o-mini",
            "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
        }
    )
    chunks.append(
        {
            "id": "c1",
            "object": "chat.completion.chunk",
            "model": "gpt-4o-mini",
            "choices": [],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
        }
    )
    lines = [f"data: {json.dumps(chunk)}\n\n" for chunk in chunks] + ["data: [DONE]\n\n"]
    return "".join(lines).encode()


@pytest.fixture
def openai_server() -> LoopbackServer:
    with LoopbackServer() as server:
        server.add(
            "POST",
            "/v1/chat/completions",
            body=openai_sse("Hello", " from", " loopback"),
            headers={"content-type": "text/event-stream"},
            chunks=[40, 200],
        )
        yield server


def test_a_prompt_with_no_key_and_no_model_runs_on_the_fake_and_says_so(home: Home) -> None:
    result = home.run("Hello there")
    assert result.code == 0, result.err
    assert result.out == "Fake reply 1: Hello there\n"
    assert FAKE_NOTE in result.err
    assert "Traceback" not in result.err


def test_piped_stdin_is_appended_to_the_prompt(home: Home) -> None:
    result = home.run("Summarize this:", stdin="line one\nline two\n")
    assert result.code == 0, result.err
    assert result.out == "Fake reply 1: Summarize this:\n\nline one\nline two\n"


def test_stdin_alone_is_the_prompt(home: Home) -> None:
    result = home.run(stdin="just stdin\n")
    assert result.code == 0, result.err
    assert result.out == "Fake reply 1: just stdin\n"


def test_no_prompt_at_all_is_a_user_error(home: Home) -> None:
    result = home.run("prompt")
    assert result.code == 2
    assert "no prompt" in one_line_error(result)


def test_no_stream_prints_the_same_answer_at_once(home: Home) -> None:
    streamed = home.run("-m", "fake", "same words")
    whole = home.run("-m", "fake", "--no-stream", "same words")
    assert streamed.code == whole.code == 0
    assert streamed.out == whole.out == "Fake reply 1: same words\n"


def test_an_explicit_fake_model_is_not_announced(home: Home) -> None:
    result = home.run("-m", "fake", "quiet")
    assert result.code == 0
    assert result.err == ""


def test_json_is_one_document_with_text_and_usage_only_with_u(home: Home) -> None:
    plain = home.run("--json", "-m", "fake", "hi there")
    assert plain.code == 0, plain.err
    document = plain.json()
    assert document["text"] == "Fake reply 1: hi there"
    assert document["model"] == "fake:echo"
    assert document["finish_reason"] == "stop"
    assert "usage" not in document
    with_usage = home.run("--json", "-u", "-m", "fake", "hi there").json()
    assert with_usage["usage"]["input_tokens"] == 2
    assert with_usage["usage"]["output_tokens"] == 5
    assert with_usage["usage"]["total_tokens"] == 7
    assert with_usage["usage"]["total_cost"] is None


def test_usage_goes_to_stderr_and_says_when_the_cost_is_unknown(home: Home) -> None:
    result = home.run("-u", "-m", "fake", "count me")
    assert result.code == 0
    assert result.out == "Fake reply 1: count me\n"
    assert "Token usage: 2 input, 5 output, 7 total; cost unknown" in result.err


def test_system_prompt_and_options_are_sent_and_logged(home: Home) -> None:
    result = home.run(
        "-m",
        "fake",
        "-s",
        "Be brief.",
        "-o",
        "temperature=0.5",
        "-o",
        "max_tokens=20",
        "-o",
        'stop=["END"]',
        "-o",
        "seed=7",
        "hello",
    )
    assert result.code == 0, result.err
    (row,) = home.log_rows()
    assert row["system"] == "Be brief."
    assert json.loads(row["options"]) == {
        "temperature": 0.5,
        "max_tokens": 20,
        "stop": ["END"],
        "seed": 7,
    }


@pytest.mark.parametrize(
    ("option", "message"),
    [
        ("temprature=1", "unknown option 'temprature' for -o (did you mean 'temperature'?)"),
        ("api_key=sk-secret", "unknown option 'api_key'"),
        ("temperature=hot", "-o temperature: expected a number, got 'hot'"),
        ("max_tokens=-3", "-o max_tokens: expected a whole number >= 0"),
        ("parallel_tool_calls=maybe", "expected true or false"),
        ("novalue", "-o 'novalue': expected key=value"),
    ],
)
def test_bad_options_are_refused_before_any_call(home: Home, option: str, message: str) -> None:
    result = home.run("-m", "fake", "-o", option, "hello")
    assert result.code == 2
    assert message in one_line_error(result)
    assert "sk-secret" not in result.err
    assert not (home.data / "logs.db").exists()


def test_every_bad_option_is_listed_at_once(home: Home) -> None:
    result = home.run("-m", "fake", "-o", "a=1", "-o", "seed=x", "hello")
    line = one_line_error(result)
    assert "unknown option 'a'" in line and "-o seed: expected a whole number" in line


def test_an_unknown_flag_is_one_line_with_a_hint(home: Home) -> None:
    result = home.run("--bogus", "hello")
    assert result.code == 2
    assert "--help" in one_line_error(result)


def test_an_unknown_model_is_a_user_error(home: Home) -> None:
    result = home.run("-m", "no-such-model", "hello")
    assert result.code == 2
    assert "unknown model 'no-such-model'" in one_line_error(result)


def test_a_catalog_id_without_provider_finds_its_provider(home: Home) -> None:
    result = home.run("-m", "gpt-4o-mini", "hello")
    assert result.code == 2
    assert (
        "no API key for openai: run `allm keys set openai` or set OPENAI_API_KEY"
        in one_line_error(result)
    )


def test_a_missing_key_is_one_line_naming_the_fix(home: Home) -> None:
    result = home.run("-m", "anthropic:claude-haiku-4-5", "hello")
    assert result.code == 2
    assert "allm keys set anthropic" in one_line_error(result)


PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


def test_attachments_reach_the_message_and_the_log(home: Home) -> None:
    (home.root / "pixel.png").write_bytes(PNG)
    (home.root / "notes.txt").write_text("some notes\n", encoding="utf-8")
    result = home.run("-m", "fake", "-a", "pixel.png", "--attach", "notes.txt", "describe")
    assert result.code == 0, result.err
    (row,) = home.log_rows()
    assert json.loads(row["attachments"]) == [
        str(home.root / "pixel.png"),
        str(home.root / "notes.txt"),
    ]


def test_a_missing_or_unreadable_attachment_is_a_user_error(home: Home) -> None:
    (home.root / "blob.bin").write_bytes(b"\xff\xfe\x00\x81")
    result = home.run("-m", "fake", "-a", "missing.png", "-a", "blob.bin", "describe")
    assert result.code == 2
    line = one_line_error(result)
    assert "cannot attach missing.png: no such file" in line
    assert "cannot attach blob.bin: not an image, a PDF or UTF-8 text" in line


def test_a_stored_key_is_used_and_usage_has_the_catalog_cost(
    home: Home, openai_server: LoopbackServer
) -> None:
    stored = home.run("keys", "set", "openai", stdin="sk-stored-0123456789\n")
    assert stored.code == 0, stored.err
    base = f"base_url={openai_server.url}/v1"
    result = home.run("-m", "openai:gpt-4o-mini", "-o", base, "-u", "hi")
    assert result.code == 0, result.err
    assert result.out == "Hello from loopback\n"
    # gpt-4o-mini: $0.15 in, $0.60 out per million tokens; 10 in, 2 out.
    assert "Token usage: 10 input, 2 output, 12 total; cost $0.000003" in result.err
    (request,) = openai_server.requests
    assert request.headers["authorization"] == "Bearer sk-stored-0123456789"
    assert request.json()["model"] == "gpt-4o-mini"
    assert "sk-stored" not in result.err + result.out
    document = home.run("-m", "openai:gpt-4o-mini", "-o", base, "-u", "--json", "hi").json()
    assert document["usage"]["total_cost"] == pytest.approx(10 * 0.15e-6 + 2 * 0.6e-6)
    rows = home.log_rows()
    assert [row["model"] for row in rows] == ["openai:gpt-4o-mini"] * 2
    assert rows[0]["total_cost"] == pytest.approx(2.7e-6)
    assert all("sk-stored" not in json.dumps(row) for row in rows)


def test_a_stored_key_picks_its_provider_when_no_model_is_given(
    home: Home, openai_server: LoopbackServer
) -> None:
    home.run("keys", "set", "openai", stdin="sk-stored-0123456789")
    result = home.run("-o", f"base_url={openai_server.url}/v1", "hi")
    assert result.code == 0, result.err
    assert "using openai:gpt-4o-mini (a key was found)" in result.err
    assert result.out == "Hello from loopback\n"


def test_the_model_can_come_from_the_environment(home: Home, openai_server: LoopbackServer) -> None:
    result = home.run(
        "-o",
        f"base_url={openai_server.url}/v1",
        "hi",
        env={"ALLM_MODEL": "openai:gpt-4o-mini", "OPENAI_API_KEY": "sk-env-0123456789"},
    )
    assert result.code == 0, result.err
    assert result.err == ""
    assert openai_server.requests[0].headers["authorization"] == "Bearer sk-env-0123456789"


def test_a_provider_failure_exits_1_with_one_line(home: Home) -> None:
    with LoopbackServer() as server:
        refuse(server, 401)
        result = home.run(
            *openai_at(server),
            "hi",
            env={"OPENAI_API_KEY": "sk-wrong-0123456789"},
        )
    assert result.code == 1
    assert "Traceback" not in result.err
    assert "sk-wrong" not in result.err
    assert result.err.startswith("allm: error: ")
    (row,) = home.log_rows()
    assert row["finish_reason"] == "error" and row["error"]


def test_a_stream_cut_midway_keeps_the_text_and_exits_1(home: Home) -> None:
    body = openai_sse("Partial", " answer")
    with LoopbackServer() as server:
        server.add(
            "POST",
            "/v1/chat/completions",
            body=body,
            headers={"content-type": "text/event-stream"},
            cut_after=body.index(b"\n\n", body.index(b"answer")) + 2,
        )
        result = home.run(
            *openai_at(server),
            "hi",
            env=TEST_KEY,
        )
    assert result.code == 1
    assert result.out == "Partial answer\n"
    assert result.err.startswith("allm: error: ") and "Traceback" not in result.err


def test_version_help_and_the_demo(home: Home) -> None:
    assert home.run("--version").out.startswith("allm, version ")
    helped = home.run("--help")
    assert helped.code == 0
    for command in ("chat", "keys", "logs", "models", "prompt"):
        assert command in helped.out
    prompt_help = home.run("prompt", "--help").out
    for flag in ("--model", "--system", "--option", "--no-stream", "--usage", "--attach", "--json"):
        assert flag in prompt_help
    import subprocess
    import sys

    demo = subprocess.run(
        [str(Path(sys.executable).with_name("allm-demo"))],
        capture_output=True,
        text=True,
        env=home.env,
        timeout=60,
    )
    assert demo.returncode == 0 and "Streaming from the Fake provider" in demo.stdout


def test_json_reports_a_failure_and_exits_1(home: Home) -> None:
    with LoopbackServer() as server:
        refuse(server, 401)
        result = home.run(
            "--json",
            "-m",
            "gpt-4o-mini@openai",
            "-o",
            f"base_url={server.url}/v1",
            "hi",
            env=TEST_KEY,
        )
    assert result.code == 1
    document = result.json()
    assert document["finish_reason"] == "error" and document["error"]
    assert document["model"] == "openai:gpt-4o-mini"


def test_typed_options_reach_the_provider(home: Home, openai_server: LoopbackServer) -> None:
    result = home.run(
        *openai_at(openai_server),
        "-o",
        "parallel_tool_calls=false",
        "-o",
        "logprobs=3",
        "-o",
        "stop=END",
        "-o",
        "top_p=0.9",
        "hi",
        env=TEST_KEY,
    )
    assert result.code == 0, result.err
    (row,) = home.log_rows()
    assert json.loads(row["options"]) == {
        "base_url": f"{openai_server.url}/v1",
        "parallel_tool_calls": False,
        "logprobs": 3,
        "stop": ["END"],
        "top_p": 0.9,
    }
    assert openai_server.requests[0].json()["top_p"] == 0.9
    flags = home.run("-m", "fake", "-o", "logprobs=yes", "-o", "parallel_tool_calls=on", "hi")
    assert flags.code == 0
    assert json.loads(home.log_rows()[-1]["options"]) == {
        "logprobs": True,
        "parallel_tool_calls": True,
    }
    bad_stop = home.run("-m", "fake", "-o", "stop=[1, 2]", "hi")
    assert "-o stop: expected a string or a JSON list" in one_line_error(bad_stop)


def test_a_pdf_attachment_is_a_document_when_the_library_has_document_parts(home: Home) -> None:
    from allm import data

    (home.root / "paper.pdf").write_bytes(
        b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
    )
    result = home.run("-m", "fake", "-a", "paper.pdf", "summarize")
    if getattr(data, "DocumentPart", None) is not None:
        assert result.code == 0, result.err
    else:
        assert result.code == 2
        assert "cannot attach paper.pdf" in one_line_error(result)
