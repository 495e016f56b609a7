"""``allm embed TEXT``: the Fake by default, stdin, --dimensions, --json, -u, errors, a server."""

from __future__ import annotations

import base64
import json
import math
import struct

import pytest

from allm.testing.loopback import LoopbackServer

from .conftest import Home, one_line_error

FAKE_NOTE = "embedding with the offline Fake provider (fake_embeddings"


def vector_of(text: str) -> list[float]:
    value = json.loads(text)
    assert isinstance(value, list)
    assert all(isinstance(x, float) for x in value)
    return value


def test_with_no_key_and_no_model_the_fake_gives_a_deterministic_vector(home: Home) -> None:
    first = home.run("embed", "the cat sat")
    assert first.code == 0, first.err
    vector = vector_of(first.out)
    assert len(vector) == 8
    assert math.isclose(sum(x * x for x in vector), 1.0)
    assert FAKE_NOTE in first.err
    assert "Traceback" not in first.err
    again = home.run("embed", "the cat sat")
    assert vector_of(again.out) == vector
    assert vector_of(home.run("embed", "on the mat").out) != vector
    (row, _, _) = home.log_rows()
    assert row["model"] == "fake:fake-embedding"
    assert row["prompt"] == "the cat sat"
    assert json.loads(row["options"]) == {"dimensions": 8}


def test_piped_stdin_is_the_text(home: Home) -> None:
    piped = home.run("embed", stdin="the cat sat\n")
    assert piped.code == 0, piped.err
    assert vector_of(piped.out) == vector_of(home.run("embed", "the cat sat").out)


def test_no_text_at_all_is_a_user_error(home: Home) -> None:
    result = home.run("embed", stdin="\n")
    assert result.code == 2
    assert "no text" in one_line_error(result)


def test_dimensions_sets_the_length(home: Home) -> None:
    result = home.run("embed", "--dimensions", "3", "-m", "fake", "hello")
    assert result.code == 0, result.err
    assert len(vector_of(result.out)) == 3
    assert result.err == ""  # a named model: nothing to explain
    refused = home.run("embed", "--dimensions", "0", "hello")
    assert refused.code == 2
    assert "--dimensions" in one_line_error(refused)


def test_json_prints_the_vector_model_dimensions_and_usage(home: Home) -> None:
    result = home.run("embed", "--json", "--dimensions", "4", "the cat sat")
    assert result.code == 0, result.err
    document = result.json()
    assert set(document) == {"vector", "model", "dimensions", "usage"}
    assert len(document["vector"]) == document["dimensions"] == 4
    assert document["model"] == "fake:fake-embedding"
    assert document["usage"]["input_tokens"] == 3
    assert document["usage"]["total_cost"] is None


def test_usage_goes_to_stderr(home: Home) -> None:
    result = home.run("embed", "-u", "the cat sat")
    assert result.code == 0, result.err
    vector_of(result.out)
    assert "Token usage: 3 input, 3 total; cost unknown" in result.err


def test_an_unknown_option_is_refused(home: Home) -> None:
    result = home.run("embed", "--temperature", "1", "hello")
    assert result.code == 2
    assert "--temperature" in one_line_error(result)
    bad = home.run("embed", "-o", "temperature=1", "-o", "input_typ=query", "hello")
    assert bad.code == 2
    line = one_line_error(bad)
    assert "unknown option 'temperature'" in line
    assert "did you mean 'input_type'?" in line


def test_a_missing_key_for_a_named_provider_is_refused(home: Home) -> None:
    result = home.run("embed", "-m", "openai:text-embedding-3-small", "hello")
    assert result.code == 2
    assert (
        "no API key for openai: run `allm keys set openai` or set OPENAI_API_KEY"
        in one_line_error(result)
    )
    gemini = home.run("embed", "-m", "gemini:gemini-embedding-001", "hello")
    assert gemini.code == 2
    assert "allm keys set gemini" in one_line_error(gemini)


def openai_embedding_body(vector: list[float], prompt_tokens: int) -> bytes:
    """An OpenAI embeddings answer with a base64 vector (the recorded shape)."""
    packed = base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()
    return json.dumps(
        {
            "object": "list",
            "data": [{"object": "embedding", "index": 0, "embedding": packed}],
            "model": "text-embedding-3-small",
            "usage": {"prompt_tokens": prompt_tokens, "total_tokens": prompt_tokens},
        }
    ).encode()


@pytest.fixture
def openai_server() -> LoopbackServer:
    with LoopbackServer() as server:
        for _ in range(2):
            server.add(
                "POST",
                "/v1/embeddings",
                body=openai_embedding_body([-0.5, -0.3125, -0.125, 0.0625], 3),
                headers={"content-type": "application/json"},
            )
        yield server


def test_a_stored_key_reaches_the_openai_embeddings_api(
    home: Home, openai_server: LoopbackServer
) -> None:
    stored = home.run("keys", "set", "openai", stdin="sk-stored-0123456789\n")
    assert stored.code == 0, stored.err
    base = f"base_url={openai_server.url}/v1"
    result = home.run("embed", "-o", base, "--dimensions", "4", "-u", "the cat sat")
    assert result.code == 0, result.err
    assert vector_of(result.out) == [-0.5, -0.3125, -0.125, 0.0625]
    assert "using openai:text-embedding-3-small (a key was found)" in result.err
    # text-embedding-3-small: $0.02 per million input tokens; 3 tokens.
    assert "Token usage: 3 input, 3 total; cost $0.00000006" in result.err
    (request,) = openai_server.requests
    assert request.headers["authorization"] == "Bearer sk-stored-0123456789"
    assert request.json() == {
        "model": "text-embedding-3-small",
        "input": ["the cat sat"],
        "encoding_format": "base64",
        "dimensions": 4,
    }
    document = home.run(
        "embed", "-m", "openai:text-embedding-3-small", "-o", base, "--json", "the cat sat"
    ).json()
    assert document["model"] == "openai:text-embedding-3-small"
    assert document["usage"]["total_cost"] == pytest.approx(3 * 0.02e-6)
    assert "sk-stored" not in result.err + result.out + json.dumps(home.log_rows())


def test_a_provider_failure_exits_1_with_one_line(home: Home) -> None:
    with LoopbackServer() as server:
        server.add(
            "POST",
            "/v1/embeddings",
            status=401,
            body=b'{"error": {"message": "refused", "type": "invalid_request_error"}}',
            headers={"content-type": "application/json"},
        )
        result = home.run(
            "embed",
            "-m",
            "openai:text-embedding-3-small",
            "-o",
            f"base_url={server.url}/v1",
            "hello",
            env={"OPENAI_API_KEY": "sk-env-0123456789"},
        )
    assert result.code == 1
    assert "authentication_failed" in one_line_error(result)


def test_with_logs_off_nothing_is_logged(home: Home) -> None:
    home.run("embed", "first")
    assert home.run("logs", "off").code == 0
    assert home.run("embed", "second").code == 0
    assert [row["prompt"] for row in home.log_rows()] == ["first"]
