"""A user's script, checked by ``mypy --strict`` in ``test_user_script_types.py`` (never run)."""

from __future__ import annotations

import allm
import allm.batch
import allm.sessions
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
        reasoning="low",
        include_raw_chunks=True,
        provider_options={"openai": {"service_tier": "flex"}},
    )
    result: allm.ChatResult = allm.chat(engine, [allm.user("Hi")], tools=tools, max_turns=3)
    session, started = allm.sessions.start(engine, [allm.user("Hi")], max_turns=2)
    job = allm.batch.submit(engine, [allm.request([allm.user("Hi")])], display_name="mine")
    print(response.text, result.final_response, session.id, started.final_response, job.id)


async def later(engine: allm.Engine) -> None:
    response = await allm.agenerate(
        engine,
        [allm.user("Hi")],
        reasoning=allm.Reasoning(effort="high", summary="auto"),
        prompt_cache="auto",
    )
    step = await allm.astep(engine, [allm.user("Hi")], mode="manual", retry=False)
    print(response.text, step.response)
