"""OpenAI embeddings (``POST /embeddings``) and the same wire on OpenAI-compatible servers.

The request asks for ``encoding_format: "base64"``: each vector comes back as the base64 of its
little-endian float32 values, about a quarter of the size of the JSON numbers and decoded in
one ``struct.unpack`` (``bench/embeddings.py``). A server that ignores the field and answers
JSON numbers is read too. ``data[].index`` puts the vectors back in input order.

Rules checked before any key is resolved or byte sent: at most 2,048 inputs per request (the
façade splits longer lists); ``dimensions`` only on ``text-embedding-3-*`` models (the older
``text-embedding-ada-002`` has a fixed length). ``input_type`` has no OpenAI field and is not
sent. ``usage.prompt_tokens`` is ``Usage.input_tokens``; the ``x-request-id`` header is kept in
``metadata["openai_request_id"]``.
"""

from __future__ import annotations

from .adapter import OpenAICompatibleEmbeddings, OpenAIEmbeddings
from .decode import decode_vector
from .settings import DEFAULT_MODEL, MAX_INPUTS

__all__ = [
    "DEFAULT_MODEL",
    "MAX_INPUTS",
    "OpenAICompatibleEmbeddings",
    "OpenAIEmbeddings",
    "decode_vector",
]
