"""Extract a typed object from text, offline: the Fake answers once with invalid JSON (it is
re-asked with the validation errors) and then with a valid one; partial values stream on the way.

python examples/extract_typed.py
"""

from __future__ import annotations

from pydantic import BaseModel

import allm
from allm.events import OutputRetry, PartialOutput
from allm.providers.fake import finish, text, usage


class Invoice(BaseModel):
    number: str
    total: float
    paid: bool = False


engine = allm.Engine(
    adapter="fake",
    adapter_opts={
        "scripts": [
            [text('{"number": "A-17", "total": "lots"}'), usage(output_tokens=9), finish()],
            [
                text('{"number": "A-17", '),
                text('"total": 129.5}'),
                usage(output_tokens=11),
                finish(),
            ],
        ]
    },
)
question = [allm.user("Invoice A-17 comes to 129.50 EUR, not yet paid. Extract it.")]

for event in allm.stream_generate(engine, question, response_format=Invoice):
    if isinstance(event, PartialOutput):
        print("partial:", event.value)
    elif isinstance(event, OutputRetry):
        print(f"attempt {event.attempt} after: {event.error.message}")

response = allm.generate(
    allm.Engine(
        adapter="fake", adapter_opts={"script": [text('{"number": "A-17", "total": 129.5}')]}
    ),
    question,
    response_format=Invoice,
)
invoice = response.parsed
print(type(invoice).__name__, invoice.number, invoice.total, invoice.paid)
