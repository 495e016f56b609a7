"""A user's script, checked by ``mypy --strict`` in ``test_user_script_types.py`` (never run)."""

from __future__ import annotations

import allm
from allm.providers.fake import text


@allm.tool
def weather(city: str) -> str:
    """The weather in a city."""
    return f"sunny in {city}"


@allm.tool(strict=True)
def population(city: str) -> int:
    """How many people live in a city."""
    return len(city)


def main() -> None:
    engine = allm.Engine(adapter="fake", adapter_opts={"script": [text("hi")]})
    tools: list[allm.Tool] = [weather, population]
    response: allm.Response = allm.generate(
        engine,
        [allm.user("Hi")],
        temperature=0.2,
        max_tokens=64,
        stop=["END"],
        seed=7,
        include_raw_chunks=True,
        provider_options={"openai": {"service_tier": "flex"}},
    )
    result: allm.ChatResult = allm.chat(engine, [allm.user("Hi")], tools=tools, max_turns=3)
    print(response.text, result.final_response)
