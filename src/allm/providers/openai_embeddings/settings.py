"""What the OpenAI embedding adapters read and the rules they check."""

from __future__ import annotations

__all__ = ["DEFAULT_MODEL", "ENCODING_FORMAT", "FIXED_LENGTH", "MAX_INPUTS", "PATH"]

PATH = "/embeddings"
DEFAULT_MODEL = "text-embedding-3-small"
MAX_INPUTS = 2048  # inputs per request, as the API reference states
ENCODING_FORMAT = "base64"  # the ``encoding_format`` adapter option may say "float"
FIXED_LENGTH = ("text-embedding-ada-002",)  # models without ``dimensions``
