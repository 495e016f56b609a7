"""What the Gemini embedding adapter reads and the rules it checks."""

from __future__ import annotations

import re

__all__ = ["DEFAULT_MODEL", "DEFAULT_TIMEOUT", "MAX_BATCH", "MODEL_ID", "TASK_TYPES"]

DEFAULT_MODEL = "gemini-embedding-001"
MAX_BATCH = 100  # "at most 100 requests can be in one batch"
TASK_TYPES = {"query": "RETRIEVAL_QUERY", "document": "RETRIEVAL_DOCUMENT"}
DEFAULT_TIMEOUT = 60.0
MODEL_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")  # safe in a URL path
