"""Semantic search over a few documents with embeddings, offline.

Runs on the deterministic FakeEmbeddings (no key, no network): the same text always gets the
same vector, so the ranking below is stable. For real vectors, use
``allm.Engine(embedding_model="openai:text-embedding-3-small")`` (or ``"gemini:gemini-embedding-001"``)
with a key in the environment; nothing else changes.

    python examples/embed_search.py "question"
"""

from __future__ import annotations

import math
import sys

import allm

DOCUMENTS = [
    "The cat sleeps on the warm mat.",
    "Invoices are due thirty days after delivery.",
    "Our office is closed on public holidays.",
    "The cat sleeps on the warm mat.",  # a duplicate scores exactly like its twin
]


def cosine(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    return dot / (math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b)))


def main() -> None:
    question = sys.argv[1] if len(sys.argv) > 1 else "The cat sleeps on the warm mat."
    engine = allm.Engine(embedding_adapter="fake_embeddings")
    documents = allm.embed(engine, DOCUMENTS, input_type="document", dimensions=16, batch_size=2)
    query = allm.embed(engine, question, input_type="document", dimensions=16).vector
    print(f"{len(documents.vectors)} vectors of {documents.dimensions} dimensions "
          f"in {documents.metadata['batches']} requests")  # fmt: skip
    ranked = sorted(
        zip(DOCUMENTS, documents.vectors, strict=True),
        key=lambda pair: -cosine(query, pair[1]),
    )
    for text, vector in ranked:
        print(f"{cosine(query, vector):+.3f}  {text}")


if __name__ == "__main__":
    main()
