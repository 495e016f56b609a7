"""API keys: resolution order, scoped keys, .env parsing, missing-key errors (40-41)."""

from __future__ import annotations

import pickle
import threading

import pytest

import allm
from allm import keys
from allm.config import get_settings
from allm.errors import EngineError

# -- 40: resolution order ------------------------------------------------------------------------


@pytest.fixture
def every_source(monkeypatch, tmp_path):
    """A key for "openai" at every level, each one different."""
    dotenv = tmp_path / ".env"
    dotenv.write_text("OPENAI_API_KEY=from-dotenv\n", encoding="utf-8")
    allm.configure(keys={"openai": "from-config"}, load_dotenv=True, dotenv_path=str(dotenv))
    monkeypatch.setenv("OPENAI_API_KEY", "from-env")
    keys.put("openai", "from-put")


def test_f040_call_api_key_beats_everything(every_source):
    with keys.scoped({"openai": "from-scoped"}):
        assert keys.get("openai", "from-call") == ("from-call", "opts")
        assert keys.fetch("openai", "from-call") == "from-call"


def test_f040_each_level_wins_over_the_next(every_source, monkeypatch):
    with keys.scoped({"openai": "from-scoped"}):
        assert keys.get("openai") == ("from-scoped", "runtime")
    assert keys.get("openai") == ("from-put", "runtime")

    keys.delete("openai")
    assert keys.get("openai") == ("from-config", "app_config")

    allm.configure(keys={})
    assert keys.get("openai") == ("from-env", "env")

    monkeypatch.delenv("OPENAI_API_KEY")
    assert keys.get("openai") == ("from-dotenv", "dotenv")

    allm.configure(load_dotenv=False)
    assert keys.get("openai") is None


def test_f040_empty_strings_are_skipped_at_every_level(every_source, monkeypatch, tmp_path):
    keys.put("openai", "")
    allm.configure(keys={"openai": ""})
    monkeypatch.setenv("OPENAI_API_KEY", "")
    with keys.scoped({"openai": ""}):
        assert keys.get("openai", "") == ("from-dotenv", "dotenv")

    empty = tmp_path / "empty.env"
    empty.write_text('OPENAI_API_KEY=""\n', encoding="utf-8")
    allm.configure(dotenv_path=str(empty))
    assert keys.get("openai", "") is None


def test_f040_dotenv_is_read_only_when_enabled(tmp_path):
    dotenv = tmp_path / "custom.env"
    dotenv.write_text("ANTHROPIC_API_KEY=sk-ant-dotenv\n", encoding="utf-8")

    allm.configure(dotenv_path=str(dotenv))
    assert keys.get("anthropic") is None

    allm.configure(load_dotenv=True)
    assert keys.get("anthropic") == ("sk-ant-dotenv", "dotenv")


def test_f040_a_missing_dotenv_file_is_no_error(tmp_path):
    allm.configure(load_dotenv=True, dotenv_path=str(tmp_path / "absent.env"))

    assert keys.get("openai") is None


def test_f040_env_vars_per_provider(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "oa")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "an")
    monkeypatch.setenv("GOOGLE_API_KEY", "go")

    assert keys.get("openai") == ("oa", "env")
    assert keys.get("anthropic") == ("an", "env")
    assert keys.get("gemini") == ("go", "env")  # GOOGLE_API_KEY is gemini's fallback

    monkeypatch.setenv("GEMINI_API_KEY", "ge")
    assert keys.get("gemini") == ("ge", "env")  # GEMINI_API_KEY comes first


def test_f040_env_var_names():
    assert keys.env_vars("openai") == ("OPENAI_API_KEY",)
    assert keys.env_vars("anthropic") == ("ANTHROPIC_API_KEY",)
    assert keys.env_vars("gemini") == ("GEMINI_API_KEY", "GOOGLE_API_KEY")
    assert keys.env_vars("mistral") == ("MISTRAL_API_KEY",)


def test_f040_any_other_provider_uses_its_upper_case_env_var(monkeypatch):
    monkeypatch.setenv("VOYAGE_API_KEY", "vo")

    assert keys.get("voyage") == ("vo", "env")


def test_f040_gemini_env_vars_also_read_from_dotenv(tmp_path):
    dotenv = tmp_path / ".env"
    dotenv.write_text("GOOGLE_API_KEY=g-dotenv\n", encoding="utf-8")
    allm.configure(load_dotenv=True, dotenv_path=str(dotenv))

    assert keys.get("gemini") == ("g-dotenv", "dotenv")


def test_f040_put_and_delete():
    keys.put("anthropic", "sk-put")
    assert keys.fetch("anthropic") == "sk-put"

    keys.delete("anthropic")
    keys.delete("anthropic")  # no error the second time
    assert keys.get("anthropic") is None


def test_f040_scoped_keys_nest_and_are_restored():
    keys.put("openai", "outer-put")
    with keys.scoped({"openai": "one", "anthropic": "a-one"}):
        with keys.scoped({"openai": "two"}):
            assert keys.fetch("openai") == "two"
            assert keys.fetch("anthropic") == "a-one"  # inherited from the outer scope
        assert keys.fetch("openai") == "one"
    assert keys.fetch("openai") == "outer-put"
    assert keys.get("anthropic") is None


def test_f040_scoped_keys_are_restored_after_an_exception():
    with pytest.raises(RuntimeError), keys.scoped({"openai": "inside"}):
        raise RuntimeError("boom")

    assert keys.get("openai") is None


def test_f040_scoped_keys_do_not_leak_into_other_threads():
    seen: list[object] = []
    with keys.scoped({"openai": "tenant-a"}):
        worker = threading.Thread(target=lambda: seen.append(keys.get("openai")))
        worker.start()
        worker.join()
        assert keys.get("openai") == ("tenant-a", "runtime")

    assert seen == [None]


def test_f040_scoped_keys_are_per_asyncio_task():
    import anyio

    results: dict[str, object] = {}

    async def tenant(name: str, key: str) -> None:
        with keys.scoped({"openai": key}):
            await anyio.sleep(0.01)
            results[name] = keys.fetch("openai")

    async def main() -> None:
        async with anyio.create_task_group() as group:
            group.start_soon(tenant, "a", "key-a")
            group.start_soon(tenant, "b", "key-b")

    anyio.run(main)

    assert results == {"a": "key-a", "b": "key-b"}


def test_f040_call_api_key_reaches_the_adapter(make_engine, recorded):
    engine = make_engine()
    keys.put("fake", "from-put")

    allm.generate(engine, [allm.user("hi")], api_key="sk-from-call")
    allm.generate(make_engine(), [allm.user("hi")], api_key="")

    assert recorded[0][1].api_key == "sk-from-call"
    assert recorded[1][1].api_key is None  # an empty string counts as not given
    assert keys.fetch("fake", recorded[0][1].api_key) == "sk-from-call"
    assert keys.fetch("fake", recorded[1][1].api_key) == "from-put"


# -- .env parser ---------------------------------------------------------------------------------


def test_f040_dotenv_parser_handles_comments_blank_lines_export_and_quotes():
    text = "\n".join(
        [
            "# a comment",
            "",
            "   ",
            "PLAIN=value",
            "export EXPORTED=exp",
            "export   SPACED = spaced value  ",
            'QUOTED="quoted value"',
            "  # indented comment",
            "WITH_EQUALS=a=b=c",
            "EMPTY=",
            "no equals sign here",
            "=no-name",
            "SINGLE='kept as is'",
            'HALF="open',
        ]
    )

    assert keys.parse_dotenv(text) == {
        "PLAIN": "value",
        "EXPORTED": "exp",
        "SPACED": "spaced value",
        "QUOTED": "quoted value",
        "WITH_EQUALS": "a=b=c",
        "EMPTY": "",
        "SINGLE": "'kept as is'",
        "HALF": '"open',
    }


def test_f040_dotenv_parser_later_lines_win():
    assert keys.parse_dotenv("A=1\nA=2\n") == {"A": "2"}


def test_f040_dotenv_parser_handles_crlf_line_endings():
    assert keys.parse_dotenv('A=1\r\nexport B="two"\r\n') == {"A": "1", "B": "two"}


def test_f040_dotenv_file_with_export_and_quotes(tmp_path):
    dotenv = tmp_path / ".env"
    dotenv.write_text(
        '# keys\n\nexport OPENAI_API_KEY="sk-quoted"\nANTHROPIC_API_KEY=sk-plain\n',
        encoding="utf-8",
    )
    allm.configure(load_dotenv=True, dotenv_path=str(dotenv))

    assert keys.get("openai") == ("sk-quoted", "dotenv")
    assert keys.get("anthropic") == ("sk-plain", "dotenv")


# -- 41: fetch and missing keys ------------------------------------------------------------------


def test_f041_fetch_raises_missing_key_with_checked_sources():
    with pytest.raises(EngineError) as info:
        keys.fetch("openai")

    error = info.value
    assert error.reason == "missing_key"
    assert error.provider == "openai"
    sources = error.metadata["checked_sources"]
    assert isinstance(sources, list)
    assert len(sources) == 5
    assert sources[:3] == ["api_key= call keyword", "allm.keys.put", "allm.configure(keys=...)"]
    assert "OPENAI_API_KEY" in sources[3]
    assert ".env" in sources[4] and "disabled" in sources[4]
    for source in sources:
        assert source in error.message


def test_f041_checked_sources_name_every_env_var_and_the_dotenv_path(tmp_path):
    path = str(tmp_path / "my.env")
    allm.configure(load_dotenv=True, dotenv_path=path)

    with pytest.raises(EngineError) as info:
        keys.fetch("gemini")

    sources = info.value.metadata["checked_sources"]
    env_sources = [s for s in sources if "environment" in s]
    assert len(env_sources) == 2
    assert "GEMINI_API_KEY" in env_sources[0]
    assert "GOOGLE_API_KEY" in env_sources[1]
    assert path in sources[-1]
    assert "disabled" not in sources[-1]


def test_f041_missing_key_error_survives_pickle_and_json():
    with pytest.raises(EngineError) as info:
        keys.fetch("anthropic")
    error = info.value

    assert pickle.loads(pickle.dumps(error)) == error
    assert allm.from_json(allm.to_json(error)) == error


def test_f041_keys_never_appear_in_errors_or_settings():
    secret = "sk-very-secret-config-key"
    allm.configure(keys={"openai": secret})
    keys.put("anthropic", "sk-very-secret-put-key")

    with pytest.raises(EngineError) as info:
        keys.fetch("gemini")

    error = info.value
    for text in (str(error), repr(error), error.message, repr(error.metadata), allm.to_json(error)):
        assert secret not in text
        assert "sk-very-secret-put-key" not in text
    settings = get_settings()
    assert secret not in repr(settings)
    assert secret not in str(settings)
    assert "1 hidden" in repr(settings)
    assert settings.keys["openai"] == secret


def test_f041_missing_key_is_found_once_any_source_has_it(monkeypatch):
    with pytest.raises(EngineError):
        keys.fetch("anthropic")

    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-env")

    assert keys.fetch("anthropic") == "sk-env"
