"""A two-tool agent that pauses to ask the user, then resumes. Offline, on the Fake provider.

python examples/agent_ask_user.py
"""

from __future__ import annotations

import allm
from allm.providers.fake import finish, text, tool_call

FLIGHTS = {"Paris": ["AF123 08:10", "AF125 12:40"], "Rome": ["AZ610 09:05"]}


def search_flights(arguments: dict) -> list[str]:
    """Flights to a city."""
    return FLIGHTS.get(arguments["city"], [])


def book_flight(arguments: dict) -> allm.AskUser | dict:
    """Book a flight, asking the user to confirm first."""
    if "confirmed" not in arguments:
        return allm.AskUser(f"Book {arguments['flight']}?", choices=["yes", "no"])
    return {"booked": arguments["flight"]}


tools = [
    allm.tool(
        name="search_flights",
        description="Find flights to a city.",
        schema={"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
        handler=search_flights,
    ),
    allm.tool(
        name="book_flight",
        description="Book one flight.",
        schema={
            "type": "object",
            "properties": {"flight": {"type": "string"}},
            "required": ["flight"],
        },
        handler=book_flight,
    ),
]

engine = allm.Engine(
    adapter="fake",
    tools=tools,
    adapter_opts={
        "scripts": [
            # Turn 1: the model searches, then asks to book; the booking tool asks the user.
            [
                tool_call(id="c1", name="search_flights", arguments={"city": "Paris"}),
                finish("tool_calls"),
            ],
            [
                tool_call(id="c2", name="book_flight", arguments={"flight": "AF123"}),
                finish("tool_calls"),
            ],
            # Turn 2, after the user answered: the model books for real and confirms.
            [
                tool_call(
                    id="c3", name="book_flight", arguments={"flight": "AF123", "confirmed": True}
                ),
                finish("tool_calls"),
            ],
            [text("Booked AF123, leaving 08:10."), finish("stop")],
        ]
    },
)

result = allm.chat(engine, [allm.user("Get me to Paris tomorrow morning.")])
print(f"halted: {result.halted_reason}; question: {result.pending_question!r}")
print(f"options: {result.metadata['ask_user_opts']}")

answer = "yes"
print(f"user answers: {answer!r}")
resumed = allm.chat(engine, result.thread.add_user(answer))
print(f"halted: {resumed.halted_reason}; answer: {resumed.text!r}")
for message in resumed.thread.messages:
    calls = ", ".join(f"{c.name}({c.arguments})" for c in message.tool_calls)
    print(f"  {message.role!s:9} {message.text or calls!r}")
