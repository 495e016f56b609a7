"""Amazon Bedrock Converse API (``POST /model/{modelId}/converse`` and ``/converse-stream``).

What it does: translates a ``Request`` into a Converse body (system hoisted, content blocks,
``inferenceConfig``, ``toolConfig``, ``additionalModelRequestFields``), signs it (SigV4 through
botocore, or a Bedrock API key as ``Bearer``), and reads the answer, an AWS event stream or a
whole JSON body, back into allm events and a ``Response``. What it does not do: I/O (the drivers
perform the HTTP), S3 image locations, documents, or the InvokeModel API. Choices made are in
``docs/design/providers-bedrock.md``.
"""

from __future__ import annotations

from .adapter import Bedrock
from .decode import BedrockStreamDecoder, finish_reason_for, usage_fields
from .errors import classify
from .settings import REASONING_ID, REDACTED_REASONING_ID

__all__ = [
    "REASONING_ID",
    "REDACTED_REASONING_ID",
    "Bedrock",
    "BedrockStreamDecoder",
    "classify",
    "finish_reason_for",
    "usage_fields",
]
