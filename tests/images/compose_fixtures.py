"""Composes the OpenAI Images wire transcripts in tests/fixtures/wire/openai-images.

Run ``python tests/images/compose_fixtures.py`` to rewrite them. Each case is three files, as in
tests/fixtures/wire/INDEX.md: ``<case>.request.json`` (what the adapter must send: a JSON body, or
for multipart uploads the form fields and the file parts), the raw ``<case>.response`` body, and
``<case>.expect.json`` (the status and headers to serve, and the expected ``ImageResponse``).

Sources: the response shape is the OpenAI Images API reference ("The image generation response",
platform.openai.com/docs/api-reference/images/object) as typed by the official SDK
(openai-python ``src/openai/types/images_response.py``: ``created``, ``data[]`` of
``{b64_json, url, revised_prompt}``, and for GPT image models ``background``, ``output_format``,
``quality``, ``size`` and ``usage{input_tokens, input_tokens_details{image_tokens, text_tokens},
output_tokens, total_tokens}``); the multipart layout (``image`` for one file, one ``image[]`` part
per file for several, then ``mask``) is the SDK's ``extract_files(paths=[["image"], ["image",
"<array>"], ["mask"]])`` in ``src/openai/resources/images.py``; the error bodies and headers
follow the OpenAI fixtures in ../openai-chat (FORMATS.md §1), with the image safety codes
``content_policy_violation`` (DALL-E) as quoted in public issue threads. Images are tiny valid
PNGs; ids, URLs and timestamps are realistic but fake. Expectations are written by hand.
"""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

from allm.providers.fake_images import png

ROOT = Path(__file__).resolve().parents[1] / "fixtures" / "wire" / "openai-images"
BASE = "https://api.openai.com/v1"
JSON = "application/json"
SOURCE = (
    "Composed from the OpenAI Images API reference (api-reference/images) and the official SDK "
    "types (openai-python src/openai/types/images_response.py, src/openai/resources/images.py); "
    "not recorded traffic."
)

LIGHTHOUSE = png(4, 4, (250, 200, 120))
EDITED = png(4, 4, (20, 120, 200))
INPUT = png(4, 4, (255, 255, 255))
MASK = png(4, 4, (0, 0, 0))
SECOND = png(2, 2, (10, 10, 10))


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def headers(request_id: str, **extra: str) -> dict[str, str]:
    return {
        "content-type": JSON,
        "x-request-id": request_id,
        "openai-organization": "acme-labs-7k2pq",
        "openai-processing-ms": "8712",
        "openai-version": "2020-10-01",
        **extra,
    }


def write(case: str, request: dict[str, Any], body: str, expect: dict[str, Any]) -> None:
    ROOT.mkdir(parents=True, exist_ok=True)
    (ROOT / f"{case}.request.json").write_text(json.dumps(request, indent=2) + "\n")
    (ROOT / f"{case}.response").write_bytes(body.encode("utf-8"))
    expect = {"case": case, "provider": "openai-images", **expect}
    (ROOT / f"{case}.expect.json").write_text(json.dumps(expect, indent=2) + "\n")


def auth(content_type: str) -> dict[str, str]:
    return {"Authorization": "Bearer ${OPENAI_API_KEY}", "Content-Type": content_type}


def generate_b64_gpt_image() -> None:
    body = {
        "created": 1745432123,
        "background": "opaque",
        "data": [{"b64_json": b64(LIGHTHOUSE)}],
        "output_format": "png",
        "quality": "low",
        "size": "1024x1024",
        "usage": {
            "input_tokens": 14,
            "input_tokens_details": {"image_tokens": 0, "text_tokens": 14},
            "output_tokens": 272,
            "total_tokens": 286,
        },
    }
    write(
        "generate_b64_gpt_image",
        {
            "method": "POST",
            "url": f"{BASE}/images/generations",
            "headers": auth(JSON),
            "body": {
                "model": "gpt-image-1",
                "prompt": "A watercolor lighthouse at dawn",
                "n": 1,
                "size": "1024x1024",
                "quality": "low",
            },
            "absent": ["response_format"],
        },
        json.dumps(body, indent=2),
        {
            "http": {"status": 200, "headers": headers("req_5b1f0c3e9a7d4f2b8c6e1a0d9f8e7c6b")},
            "model": "gpt-image-1",
            "request_id": "req_5b1f0c3e9a7d4f2b8c6e1a0d9f8e7c6b",
            "images": [
                {
                    "mime_type": "image/png",
                    "sha256": sha(LIGHTHOUSE),
                    "url": None,
                    "revised_prompt": None,
                    "width": 1024,
                    "height": 1024,
                }
            ],
            "usage": {
                "images": 1,
                "size": "1024x1024",
                "quality": "low",
                "input_tokens": 14,
                "output_tokens": 272,
            },
            "notes": [
                SOURCE,
                "GPT image models always answer in base64: the request carries no "
                "response_format, and the usage object reports tokens.",
            ],
        },
    )


def generate_url_dalle3() -> None:
    url = (
        "https://oaidalleapiprodscus.blob.core.windows.net/private/org-3fQk9XJmW2bLrT8vYc1NhAzs/"
        "user-Qm7dPZ2yKc4R/img-Xr2vLw8NqT5yBz1Kc6Hd9Jf3.png?st=2025-04-23T17%3A15%3A31Z"
        "&se=2025-04-23T19%3A15%3A31Z&sp=r&sv=2024-08-04&sr=b&rscd=inline&rsct=image/png"
        "&skoid=d505667d-d6c1-4a0a-bac7-5c84a87759f8&sig=kTq2n1p0Xf%2BzGm4w9Ue7oYbq3%3D"
    )
    revised = (
        "A serene watercolor painting of a lighthouse standing on a rocky coast at dawn, soft "
        "pink and orange light spreading over calm water."
    )
    body = {"created": 1745428531, "data": [{"revised_prompt": revised, "url": url}]}
    write(
        "generate_url_dalle3",
        {
            "method": "POST",
            "url": f"{BASE}/images/generations",
            "headers": auth(JSON),
            "body": {
                "model": "dall-e-3",
                "prompt": "A watercolor lighthouse at dawn",
                "n": 1,
                "size": "1792x1024",
                "quality": "hd",
                "style": "vivid",
                "response_format": "url",
            },
            "absent": [],
        },
        json.dumps(body, indent=2),
        {
            "http": {"status": 200, "headers": headers("req_0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a")},
            "model": "dall-e-3",
            "request_id": "req_0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a",
            "images": [
                {
                    "mime_type": "image/png",
                    "sha256": None,
                    "url": url,
                    "revised_prompt": revised,
                    "width": 1792,
                    "height": 1024,
                }
            ],
            "usage": {
                "images": 1,
                "size": "1792x1024",
                "quality": "hd",
                "input_tokens": None,
                "output_tokens": None,
            },
            "notes": [
                SOURCE,
                "DALL-E 3 rewrites the prompt (revised_prompt) and, asked for url, answers with "
                "a signed blob URL that expires after about an hour; no usage object.",
            ],
        },
    )


def edit_mask_dalle2() -> None:
    body = {"created": 1745433001, "data": [{"b64_json": b64(EDITED)}]}
    write(
        "edit_mask_dalle2",
        {
            "method": "POST",
            "url": f"{BASE}/images/edits",
            "headers": auth("multipart/form-data; boundary=<any>"),
            "multipart": {
                "fields": {
                    "model": "dall-e-2",
                    "prompt": "Add a red sailboat on the water",
                    "n": "1",
                    "size": "512x512",
                    "response_format": "b64_json",
                },
                "files": [
                    {"name": "image", "content_type": "image/png", "data_base64": b64(INPUT)},
                    {"name": "mask", "content_type": "image/png", "data_base64": b64(MASK)},
                ],
            },
        },
        json.dumps(body, indent=2),
        {
            "http": {"status": 200, "headers": headers("req_7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a21")},
            "model": "dall-e-2",
            "request_id": "req_7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a21",
            "images": [
                {
                    "mime_type": "image/png",
                    "sha256": sha(EDITED),
                    "url": None,
                    "revised_prompt": None,
                    "width": 512,
                    "height": 512,
                }
            ],
            "usage": {
                "images": 1,
                "size": "512x512",
                "quality": None,
                "input_tokens": None,
                "output_tokens": None,
            },
            "notes": [
                SOURCE,
                "An edit is multipart/form-data: scalar fields, then the image file part "
                "(content type image/png), then the mask; b64_json asked for explicitly.",
            ],
        },
    )


def edit_two_images_gpt_image() -> None:
    body = {
        "created": 1745433555,
        "background": "transparent",
        "data": [{"b64_json": b64(EDITED)}],
        "output_format": "webp",
        "quality": "medium",
        "size": "1024x1536",
        "usage": {
            "input_tokens": 593,
            "input_tokens_details": {"image_tokens": 576, "text_tokens": 17},
            "output_tokens": 1056,
            "total_tokens": 1649,
        },
    }
    write(
        "edit_two_images_gpt_image",
        {
            "method": "POST",
            "url": f"{BASE}/images/edits",
            "headers": auth("multipart/form-data; boundary=<any>"),
            "multipart": {
                "fields": {
                    "model": "gpt-image-1",
                    "prompt": "Put the cat from the second picture on the sofa",
                    "n": "1",
                    "size": "1024x1536",
                    "quality": "medium",
                    "background": "transparent",
                    "output_format": "webp",
                },
                "files": [
                    {"name": "image[]", "content_type": "image/png", "data_base64": b64(INPUT)},
                    {"name": "image[]", "content_type": "image/png", "data_base64": b64(SECOND)},
                ],
            },
        },
        json.dumps(body, indent=2),
        {
            "http": {"status": 200, "headers": headers("req_2a3b4c5d6e7f8091a2b3c4d5e6f70819")},
            "model": "gpt-image-1",
            "request_id": "req_2a3b4c5d6e7f8091a2b3c4d5e6f70819",
            "images": [
                {
                    "mime_type": "image/webp",
                    "sha256": sha(EDITED),
                    "url": None,
                    "revised_prompt": None,
                    "width": 1024,
                    "height": 1536,
                }
            ],
            "usage": {
                "images": 1,
                "size": "1024x1536",
                "quality": "medium",
                "input_tokens": 593,
                "output_tokens": 1056,
            },
            "notes": [
                SOURCE,
                "Several input images are one image[] part each; GPT image models send no "
                "response_format; the MIME type of the result follows output_format.",
            ],
        },
    )


def error_400_content_policy() -> None:
    body = {
        "error": {
            "code": "content_policy_violation",
            "message": "Your request was rejected as a result of our safety system. Your prompt "
            "may contain text that is not allowed by our safety system.",
            "param": None,
            "type": "invalid_request_error",
        }
    }
    write(
        "error_400_content_policy",
        {
            "method": "POST",
            "url": f"{BASE}/images/generations",
            "headers": auth(JSON),
            "body": {"model": "dall-e-3", "prompt": "[... a prompt the safety system refuses ...]"},
            "absent": [],
        },
        json.dumps(body, indent=2) + "\n",
        {
            "http": {"status": 400, "headers": headers("req_9f8e7d6c5b4a39281706f5e4d3c2b1a0")},
            "error": {
                "reason": "content_filter",
                "status": 400,
                "openai_code": "content_policy_violation",
                "retryable": False,
            },
            "notes": [
                SOURCE,
                "A refused prompt is HTTP 400 with code content_policy_violation: "
                "content_filter, never retried.",
            ],
        },
    )


def error_429_rate_limit() -> None:
    body = {
        "error": {
            "code": "rate_limit_exceeded",
            "message": "Rate limit reached for images per minute in organization "
            "org-3fQk9XJmW2bLrT8vYc1NhAzs: Limit 5, Used 5, Requested 1. Please try again in 12s.",
            "param": None,
            "type": "requests",
        }
    }
    write(
        "error_429_rate_limit",
        {
            "method": "POST",
            "url": f"{BASE}/images/generations",
            "headers": auth(JSON),
            "body": {"model": "dall-e-2", "prompt": "A watercolor lighthouse at dawn"},
            "absent": [],
        },
        json.dumps(body, indent=2) + "\n",
        {
            "http": {
                "status": 429,
                "headers": headers("req_1b2c3d4e5f60718293a4b5c6d7e8f901", **{"retry-after": "12"}),
            },
            "error": {
                "reason": "rate_limited",
                "status": 429,
                "openai_code": "rate_limit_exceeded",
                "retry_after_ms": 12000,
                "retryable": True,
            },
            "notes": [
                SOURCE,
                "Image rate limits count images per minute; retry-after is seconds.",
            ],
        },
    )


def main() -> None:
    generate_b64_gpt_image()
    generate_url_dalle3()
    edit_mask_dalle2()
    edit_two_images_gpt_image()
    error_400_content_policy()
    error_429_rate_limit()


if __name__ == "__main__":
    main()
