"""OpenAI Images: generation (``POST /images/generations``, JSON), edits with an optional mask and
variations (``/images/edits``, ``/images/variations``, multipart/form-data built here as bytes).

Per-model rules, checked before any key is resolved or byte sent (unknown models fall through and
the API decides):

==================  ===========================  ==================  ===================================
model               operations                   response formats    inputs
==================  ===========================  ==================  ===================================
``dall-e-2``        generate, edit, variation    binary/base64/url   one square PNG under 4 MB; n <= 10
``dall-e-3``        generate                     binary/base64/url   n = 1
``gpt-image-*``     generate, edit               binary/base64       PNG, JPEG or WebP; up to 16 images
==================  ===========================  ==================  ===================================

The gate order is: operation, model, response format, then inputs (a mask is always a PNG).
GPT image models always answer in base64, so the request omits ``response_format`` for them;
``quality``, ``background`` and ``output_format`` (from ``options``) are sent as given. The adapter
turns each result into the requested form: ``binary`` (decoded bytes), ``base64`` (verbatim) or
``url`` (OpenAI's URL, valid for about an hour). The MIME type comes from ``output_format`` (PNG by
default). Token usage (GPT image models) goes to ``ImageUsage.input_tokens/output_tokens``;
``images`` is the number of results; the ``x-request-id`` header is kept in
``metadata["openai_request_id"]``.

Input images given as URLs are downloaded by the plan before the upload (30 s, at most five
redirects, at most 25 MB, the answer must be an image); a failure is ``invalid_request`` (or
``network_error`` / ``timeout`` when the transport failed).

``adapter_opts["image_script"]`` short-circuits to ``FakeImages`` after the gates (the conformance
hook), so a scripted call needs no key.

The adapter makes one attempt per call: the image façade owns the retry loop (design §13), so
budgets do not multiply.
"""

from __future__ import annotations

from ...adapters.multipart import Upload, encode_multipart
from .adapter import OpenAIImages
from .errors import classify_error
from .settings import (
    DEFAULT_TIMEOUT,
    DOWNLOAD_MAX_BYTES,
    DOWNLOAD_MAX_REDIRECTS,
    DOWNLOAD_TIMEOUT,
    OPERATIONS,
    ModelRule,
    model_rule,
)

__all__ = [
    "DOWNLOAD_MAX_BYTES",
    "OpenAIImages",
    "ModelRule",
    "Upload",
    "classify_error",
    "encode_multipart",
    "model_rule",
    "OPERATIONS",
    "DEFAULT_TIMEOUT",
    "DOWNLOAD_TIMEOUT",
    "DOWNLOAD_MAX_REDIRECTS",
]
