"""Composes the embedding and moderation wire transcripts in tests/fixtures/wire/{embeddings,
moderation}. Run ``python tests/surfaces/compose_fixtures.py`` to rewrite them.

One JSON file per case: the allm call (``call``), every HTTP exchange in order (the request the
adapter must send, the response to serve: status, headers, the body as bytes on the wire), and
the expected outcome (vectors or results, usage, model, or the error). A case without exchanges
sends nothing.

Sources (composed for this project, not recorded traffic; ids are realistic but fake):
OpenAI ``POST /v1/embeddings`` and ``/v1/moderations`` as the API reference and the official SDK
types give them (openai-python ``types/create_embedding_response.py``: ``data[]{embedding, index,
object}``, ``model``, ``usage{prompt_tokens, total_tokens}``; ``encoding_format: "base64"`` is the
base64 of little-endian float32s, which the SDK itself requests by default and decodes with
numpy ``frombuffer(dtype="float32")``; ``types/moderation_create_response.py``: ``id``, ``model``,
``results[]{flagged, categories, category_scores, category_applied_input_types}``), error bodies
as in ../openai-chat (FORMATS.md §1) with the ``retry-after-ms`` header the SDK honours; the
batch endpoint's refusal of an empty string (``'$.input' is invalid``) as quoted in
openai/openai-python#576. Gemini ``models/{model}:embedContent`` / ``:batchEmbedContents``
(ai.google.dev API reference: ``content.parts[].text``, ``taskType``, ``outputDimensionality``,
answers ``{"embedding": {"values"}}`` / ``{"embeddings": [{"values"}]}``), its error documents
as in ../gemini and the batch limit message ``* BatchEmbedContentsRequest.requests: at most 100
requests can be in one batch`` quoted in several public issue threads. OpenAI-compatible servers:
vLLM's error object (``{"object": "error", "message", "type", "code"}``) and servers that ignore
``encoding_format`` and answer JSON numbers (Ollama's ``/v1/embeddings``).
"""

from __future__ import annotations

import base64
import json
import struct
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1] / "fixtures" / "wire"
OPENAI_HEADERS = {
    "content-type": "application/json",
    "openai-organization": "acme-labs-7k2pq",
    "openai-processing-ms": "41",
    "openai-version": "2020-10-01",
}
GEMINI_HEADERS = {
    "content-type": "application/json; charset=UTF-8",
    "server": "scaffolding on HTTPServer2",
}


def vector(seed: int, size: int = 4) -> list[float]:
    """Small float32-exact values, so base64 and JSON give the same numbers."""
    return [((seed * 7 + i * 3) % 17 - 8) / 16 for i in range(size)]


def b64(values: list[float]) -> str:
    return base64.b64encode(struct.pack(f"<{len(values)}f", *values)).decode()


def pretty(document: Any) -> str:
    return json.dumps(document, indent=2) + "\n"


def openai_answer(inputs: list[str], start: int, model: str, order: list[int] | None = None) -> str:
    order = order if order is not None else list(range(len(inputs)))
    data = [{"object": "embedding", "index": i, "embedding": b64(vector(start + i))} for i in order]
    tokens = sum(len(text.split()) for text in inputs)
    return pretty(
        {
            "object": "list",
            "data": data,
            "model": model,
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        }
    )


def openai_error(message: str, kind: str, code: Any, param: Any = None) -> str:
    return pretty({"error": {"message": message, "type": kind, "param": param, "code": code}})


def exchange(
    path: str, body: Any, status: int, headers: dict[str, str], answer: str
) -> dict[str, Any]:
    return {
        "request": {"method": "POST", "path": path, "body": body},
        "response": {"status": status, "headers": headers, "body": answer},
    }


def write(folder: str, case: str, document: dict[str, Any]) -> None:
    path = ROOT / folder / f"{case}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"case": case, **document}, indent=2) + "\n")


def rid(n: int) -> dict[str, str]:
    return {"x-request-id": f"req_{n:032x}"}


# -- OpenAI embeddings -------------------------------------------------------------------------


def openai_embeddings(folder: str, adapter: str, model: str, compatible: bool = False) -> None:
    path = "/v1/embeddings"
    headers = dict(OPENAI_HEADERS) if not compatible else {"content-type": "application/json"}

    def body(inputs: list[str], **extra: Any) -> dict[str, Any]:
        return {"model": model, "input": inputs, "encoding_format": "base64", **extra}

    texts = ["the cat sat", "on the mat"]
    write(folder, "success", {
        "adapter": adapter,
        "notes": ["Two inputs, base64 vectors, usage from prompt_tokens."],
        "call": {"inputs": texts, "opts": {"model": model, "dimensions": 4}},
        "exchanges": [exchange(path, body(texts, dimensions=4), 200, {**headers, **rid(1)}, openai_answer(texts, 0, model))],
        "expect": {"vectors": [vector(0), vector(1)], "model": model, "usage": {"input_tokens": 6, "total_tokens": 6}, "requests": 1},
    })  # fmt: skip
    five = [f"document number {i}" for i in range(5)]
    write(folder, "batch_split", {
        "adapter": adapter,
        "notes": ["batch_size=2 splits five inputs into three requests; the vectors keep input order."],
        "call": {"inputs": five, "opts": {"model": model, "batch_size": 2, "max_concurrency": 1}},
        "exchanges": [
            exchange(path, body(five[0:2]), 200, {**headers, **rid(2)}, openai_answer(five[0:2], 0, model)),
            exchange(path, body(five[2:4]), 200, {**headers, **rid(3)}, openai_answer(five[2:4], 2, model)),
            exchange(path, body(five[4:5]), 200, {**headers, **rid(4)}, openai_answer(five[4:5], 4, model)),
        ],
        "expect": {"vectors": [vector(i) for i in range(5)], "model": model, "usage": {"input_tokens": 15, "total_tokens": 15}, "requests": 3},
    })  # fmt: skip
    if compatible:
        error_body = pretty({"object": "error", "message": "This model's maximum context length is 512 tokens. However, you requested 2048 tokens in the input for embedding generation. Please reduce the length of the input.", "type": "BadRequestError", "param": None, "code": 400})  # fmt: skip
        error_expect = {"reason": "invalid_request", "status": 400}
    else:
        error_body = openai_error("Invalid value for 'dimensions' = 9000. Must be less than or equal to 1536.", "invalid_request_error", "invalid_value", "dimensions")  # fmt: skip
        error_expect = {"reason": "invalid_request", "status": 400, "openai_code": "invalid_value"}
    write(folder, "error_400", {
        "adapter": adapter,
        "notes": ["A 400 is not retried: one request, an AdapterError with the provider's message."],
        "call": {"inputs": ["hello"], "opts": {"model": model, "dimensions": 9000}},
        "exchanges": [exchange(path, body(["hello"], dimensions=9000), 400, {**headers, **rid(5)}, error_body)],
        "expect": {"error": error_expect, "requests": 1},
    })  # fmt: skip
    limited = openai_error("Rate limit reached for text-embedding-3-small in organization org-acme on requests per min (RPM): Limit 3000, Used 3000, Requested 1. Please try again in 20ms.", "requests", "rate_limit_exceeded")  # fmt: skip
    write(folder, "rate_limited_then_ok", {
        "adapter": adapter,
        "notes": ["A 429 with retry-after-ms is retried under the engine's policy; the second answer is used."],
        "call": {"inputs": ["hello"], "opts": {"model": model}},
        "exchanges": [
            exchange(path, body(["hello"]), 429, {**headers, **rid(6), "retry-after-ms": "20", "x-ratelimit-reset-requests": "20ms"}, limited),
            exchange(path, body(["hello"]), 200, {**headers, **rid(7)}, openai_answer(["hello"], 9, model)),
        ],
        "expect": {"vectors": [vector(9)], "model": model, "usage": {"input_tokens": 1, "total_tokens": 1}, "requests": 2, "retries": 1},
    })  # fmt: skip
    write(folder, "malformed_body", {
        "adapter": adapter,
        "notes": ["A 200 whose body is a proxy's HTML page: malformed_response, not retried."],
        "call": {"inputs": ["hello"], "opts": {"model": model}},
        "exchanges": [exchange(path, body(["hello"]), 200, {"content-type": "text/html"}, "<html><body>Upstream connect error</body></html>\n")],
        "expect": {"error": {"reason": "malformed_response", "status": 200}, "requests": 1},
    })  # fmt: skip
    write(folder, "edge_empty_input_list", {
        "adapter": adapter,
        "notes": [
            "An empty list of inputs answers an empty response without a request: the API itself refuses an empty input array.",
            "An empty string is refused before any I/O: OpenAI's batch endpoint answers it with \"'$.input' is invalid\" (openai/openai-python#576).",
        ],
        "call": {"inputs": [], "opts": {"model": model}},
        "exchanges": [],
        "expect": {"vectors": [], "model": model, "usage": {}, "requests": 0},
    })  # fmt: skip
    if compatible:
        floats = pretty({"object": "list", "data": [{"object": "embedding", "embedding": vector(3), "index": 0}, {"object": "embedding", "embedding": vector(4), "index": 1}], "model": model, "usage": {"prompt_tokens": 4, "total_tokens": 4}})  # fmt: skip
        write(folder, "edge_float_vectors", {
            "adapter": adapter,
            "notes": ["A server that ignores encoding_format answers JSON numbers (Ollama's /v1/embeddings); they are read as well."],
            "call": {"inputs": ["first one", "second one"], "opts": {"model": model}},
            "exchanges": [exchange(path, body(["first one", "second one"]), 200, headers, floats)],
            "expect": {"vectors": [vector(3), vector(4)], "model": model, "usage": {"input_tokens": 4, "total_tokens": 4}, "requests": 1},
        })  # fmt: skip
    else:
        texts = ["alpha", "beta", "gamma"]
        write(folder, "edge_out_of_order", {
            "adapter": adapter,
            "notes": ["data[] is put back in input order by its index, whatever order the answer lists it in."],
            "call": {"inputs": texts, "opts": {"model": model}},
            "exchanges": [exchange(path, body(texts), 200, {**headers, **rid(8)}, openai_answer(texts, 20, model, order=[2, 0, 1]))],
            "expect": {"vectors": [vector(20), vector(21), vector(22)], "model": model, "usage": {"input_tokens": 3, "total_tokens": 3}, "requests": 1},
        })  # fmt: skip


# -- Gemini embeddings -------------------------------------------------------------------------


def gemini_embeddings() -> None:
    folder, adapter, model = "embeddings/gemini", "gemini_embeddings", "gemini-embedding-001"
    base = f"/v1beta/models/{model}"

    def content(text: str, **extra: Any) -> dict[str, Any]:
        return {"content": {"parts": [{"text": text}]}, **extra}

    def batch(texts: list[str], **extra: Any) -> dict[str, Any]:
        return {"requests": [{"model": f"models/{model}", **content(t, **extra)} for t in texts]}

    def answer(start: int, count: int, size: int = 4) -> str:
        return pretty({"embeddings": [{"values": vector(start + i, size)} for i in range(count)]})

    texts = ["how do cats sleep", "where is the mat"]
    write(folder, "success", {
        "adapter": adapter,
        "notes": ["batchEmbedContents; input_type='query' is taskType RETRIEVAL_QUERY, dimensions is outputDimensionality."],
        "call": {"inputs": texts, "opts": {"input_type": "query", "dimensions": 4}},
        "exchanges": [exchange(f"{base}:batchEmbedContents", batch(texts, taskType="RETRIEVAL_QUERY", outputDimensionality=4), 200, GEMINI_HEADERS, answer(0, 2))],
        "expect": {"vectors": [vector(0), vector(1)], "model": model, "usage": {}, "requests": 1},
    })  # fmt: skip
    many = [f"passage {i}" for i in range(101)]
    write(folder, "batch_split", {
        "adapter": adapter,
        "notes": ["101 inputs: batchEmbedContents takes at most 100 requests, so the façade sends 100 then 1 (embedContent)."],
        "call": {"inputs": many, "opts": {"input_type": "document", "max_concurrency": 1}},
        "exchanges": [
            exchange(f"{base}:batchEmbedContents", batch(many[:100], taskType="RETRIEVAL_DOCUMENT"), 200, GEMINI_HEADERS, answer(0, 100)),
            exchange(f"{base}:embedContent", content(many[100], taskType="RETRIEVAL_DOCUMENT"), 200, GEMINI_HEADERS, pretty({"embedding": {"values": vector(100)}})),
        ],
        "expect": {"vectors": [vector(i) for i in range(101)], "model": model, "usage": {}, "requests": 2},
    })  # fmt: skip
    invalid = pretty({"error": {"code": 400, "message": "* BatchEmbedContentsRequest.requests[0].output_dimensionality: Output dimensionality must be between 1 and 3072.\n", "status": "INVALID_ARGUMENT"}})  # fmt: skip
    write(folder, "error_400", {
        "adapter": adapter,
        "notes": ["INVALID_ARGUMENT is invalid_request, not retried."],
        "call": {"inputs": ["a", "b"], "opts": {"dimensions": 9000}},
        "exchanges": [exchange(f"{base}:batchEmbedContents", batch(["a", "b"], outputDimensionality=9000), 400, GEMINI_HEADERS, invalid)],
        "expect": {"error": {"reason": "invalid_request", "status": 400}, "requests": 1},
    })  # fmt: skip
    exhausted = pretty({"error": {"code": 429, "message": "Resource has been exhausted (e.g. check quota).", "status": "RESOURCE_EXHAUSTED", "details": [{"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": [{"quotaMetric": "generativelanguage.googleapis.com/embed_content_free_tier_requests", "quotaId": "EmbedContentRequestsPerMinutePerProjectPerModel-FreeTier"}]}, {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "0.020s"}]}})  # fmt: skip
    write(folder, "rate_limited_then_ok", {
        "adapter": adapter,
        "notes": ["A per-minute RESOURCE_EXHAUSTED is rate_limited and retried after its RetryInfo delay."],
        "call": {"inputs": ["hello"], "opts": {}},
        "exchanges": [
            exchange(f"{base}:embedContent", content("hello"), 429, GEMINI_HEADERS, exhausted),
            exchange(f"{base}:embedContent", content("hello"), 200, GEMINI_HEADERS, pretty({"embedding": {"values": vector(7)}})),
        ],
        "expect": {"vectors": [vector(7)], "model": model, "usage": {}, "requests": 2, "retries": 1},
    })  # fmt: skip
    write(folder, "malformed_body", {
        "adapter": adapter,
        "notes": ["A 200 with an embedding whose values are not numbers: malformed_response."],
        "call": {"inputs": ["hello"], "opts": {}},
        "exchanges": [exchange(f"{base}:embedContent", content("hello"), 200, GEMINI_HEADERS, pretty({"embedding": {"values": ["NaN?"]}}))],
        "expect": {"error": {"reason": "malformed_response", "status": 200}, "requests": 1},
    })  # fmt: skip
    write(folder, "edge_batch_size_over_limit", {
        "adapter": adapter,
        "notes": ["batch_size=150 is over Gemini's 100 per batch: refused before any I/O, where the API would answer '* BatchEmbedContentsRequest.requests: at most 100 requests can be in one batch'."],
        "call": {"inputs": ["a", "b"], "opts": {"batch_size": 150}},
        "exchanges": [],
        "expect": {"preflight": {"kind": "ValidationError", "errors": [[["batch_size"], "exceeds_provider_limit"]]}, "requests": 0},
    })  # fmt: skip


# -- OpenAI moderation -------------------------------------------------------------------------

CATEGORIES = [
    "harassment", "harassment/threatening", "hate", "hate/threatening", "illicit",
    "illicit/violent", "self-harm", "self-harm/instructions", "self-harm/intent", "sexual",
    "sexual/minors", "violence", "violence/graphic",
]  # fmt: skip
IMAGE_CATEGORIES = {"self-harm", "self-harm/instructions", "self-harm/intent", "sexual", "violence", "violence/graphic"}  # fmt: skip


def verdict(flag: str | None, image: bool = False) -> dict[str, Any]:
    categories = {name: name == flag for name in CATEGORIES}
    scores = {name: (0.91 if name == flag else 0.0001) for name in CATEGORIES}
    applied = {name: (["text", "image"] if image and name in IMAGE_CATEGORIES else ["text"]) for name in CATEGORIES}  # fmt: skip
    return {"flagged": flag is not None, "categories": categories, "category_scores": scores, "category_applied_input_types": applied}  # fmt: skip


def moderation() -> None:
    folder, adapter, model = "moderation/openai", "openai_moderation", "omni-moderation-latest"
    path = "/v1/moderations"
    answered = "omni-moderation-2024-09-26"

    def answer(n: int, flags: list[str | None], image: bool = False) -> str:
        return pretty({"id": f"modr-{n:04d}", "model": answered, "results": [verdict(f, image) for f in flags]})  # fmt: skip

    write(folder, "success", {
        "adapter": adapter,
        "notes": ["Two texts in one request, one result each."],
        "call": {"inputs": ["have a nice day", "I will hurt you"], "opts": {}},
        "exchanges": [exchange(path, {"input": ["have a nice day", "I will hurt you"], "model": model}, 200, {**OPENAI_HEADERS, **rid(11)}, answer(1, [None, "violence"]))],
        "expect": {"flagged": [False, True], "flag": [None, "violence"], "model": answered, "requests": 1},
    })  # fmt: skip
    texts = [f"message {i}" for i in range(33)]
    write(folder, "batch_split", {
        "adapter": adapter,
        "notes": ["33 texts: allm sends at most 32 per request, so two requests; results keep input order."],
        "call": {"inputs": texts, "opts": {"max_concurrency": 1}},
        "exchanges": [
            exchange(path, {"input": texts[:32], "model": model}, 200, {**OPENAI_HEADERS, **rid(12)}, answer(2, [None] * 31 + ["harassment"])),
            exchange(path, {"input": texts[32:], "model": model}, 200, {**OPENAI_HEADERS, **rid(13)}, answer(3, ["hate"])),
        ],
        "expect": {"flagged": [False] * 31 + [True, True], "flag": [None] * 31 + ["harassment", "hate"], "model": answered, "requests": 2},
    })  # fmt: skip
    write(folder, "error_400", {
        "adapter": adapter,
        "notes": ["An unknown model is a 400 invalid_request, not retried."],
        "call": {"inputs": ["hello"], "opts": {"model": "omni-moderation-9"}},
        "exchanges": [exchange(path, {"input": ["hello"], "model": "omni-moderation-9"}, 400, {**OPENAI_HEADERS, **rid(14)}, openai_error("Invalid value for 'model' = omni-moderation-9.", "invalid_request_error", "invalid_value", "model"))],
        "expect": {"error": {"reason": "invalid_request", "status": 400, "openai_code": "invalid_value"}, "requests": 1},
    })  # fmt: skip
    write(folder, "rate_limited_then_ok", {
        "adapter": adapter,
        "notes": ["A 429 with retry-after-ms is retried."],
        "call": {"inputs": ["hello"], "opts": {}},
        "exchanges": [
            exchange(path, {"input": ["hello"], "model": model}, 429, {**OPENAI_HEADERS, **rid(15), "retry-after-ms": "20"}, openai_error("Rate limit reached for omni-moderation-latest on requests per min (RPM): Limit 1000, Used 1000, Requested 1.", "requests", "rate_limit_exceeded")),
            exchange(path, {"input": ["hello"], "model": model}, 200, {**OPENAI_HEADERS, **rid(16)}, answer(4, [None])),
        ],
        "expect": {"flagged": [False], "flag": [None], "model": answered, "requests": 2, "retries": 1},
    })  # fmt: skip
    write(folder, "malformed_body", {
        "adapter": adapter,
        "notes": ["A result without category_scores is malformed_response."],
        "call": {"inputs": ["hello"], "opts": {}},
        "exchanges": [exchange(path, {"input": ["hello"], "model": model}, 200, {**OPENAI_HEADERS, **rid(17)}, pretty({"id": "modr-0005", "model": answered, "results": [{"flagged": False, "categories": {}}]}))],
        "expect": {"error": {"reason": "malformed_response", "status": 200}, "requests": 1},
    })  # fmt: skip
    png = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\x00" * 8).decode()
    write(folder, "edge_image_input", {
        "adapter": adapter,
        "notes": ["A caption with its image is one multi-part input: its own request, one result; category_applied_input_types says which categories looked at the image."],
        "call": {"inputs": [["a photo of my weekend", {"image_png_base64": png}], "plain text"], "opts": {"max_concurrency": 1}},
        "exchanges": [
            exchange(path, {"input": [{"type": "text", "text": "a photo of my weekend"}, {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{png}"}}], "model": model}, 200, {**OPENAI_HEADERS, **rid(18)}, answer(6, ["violence/graphic"], image=True)),
            exchange(path, {"input": ["plain text"], "model": model}, 200, {**OPENAI_HEADERS, **rid(19)}, answer(7, [None])),
        ],
        "expect": {"flagged": [True, False], "flag": ["violence/graphic", None], "model": answered, "requests": 2, "image_applied": True},
    })  # fmt: skip


if __name__ == "__main__":
    openai_embeddings("embeddings/openai", "openai_embeddings", "text-embedding-3-small")
    openai_embeddings("embeddings/openai-compatible", "openai_compatible_embeddings", "nomic-embed-text", compatible=True)  # fmt: skip
    gemini_embeddings()
    moderation()
