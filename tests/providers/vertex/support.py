"""Helpers for the Vertex tests: google-auth credentials that need no network, and engines over
the recorded Vertex transcripts (Gemini and Claude models)."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Any

from google.oauth2.credentials import Credentials
from tests.providers.anthropic.support import request_from_body
from tests.providers.gemini.support import request_from_wire
from tests.providers.wire import Case

import allm
from allm.providers.vertex import Vertex

PROJECT = "allm-test-project"
TOKEN = "ya29.vertex-test-access-token"
GEMINI = "vertex"
CLAUDE = "vertex-anthropic"


def credentials(
    token: str = TOKEN, *, hours: float = 1.0, kind: type[Credentials] = Credentials, **fields: Any
) -> Credentials:
    """Real google-auth user credentials (of ``kind``, a subclass perhaps) holding an access
    token that expires in ``hours`` (negative: already expired)."""
    expiry = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
    return kind(token=token, expiry=expiry + datetime.timedelta(hours=hours), **fields)


def model_of(case: Case) -> str:
    """The model id in the case's URL."""
    return str(case.request["url"].split("/models/", 1)[1].split(":", 1)[0])


def location_of(case: Case) -> str:
    url = case.request["url"]
    return url.split("/locations/", 1)[1].split("/", 1)[0] if "/locations/" in url else "global"


def engine_for(
    case: Case, how: str | Sequence[int] = "whole", *, retry: Any = False, **opts: Any
) -> allm.Engine:
    """An engine whose sync and async clients both serve ``case`` (credentials, or for an
    express mode case no credentials: the call passes ``api_key=``)."""
    adapter_opts: dict[str, Any] = {
        "http_client": case.client(how),
        "async_http_client": case.async_client(how),
        "location": location_of(case),
        **opts,
    }
    if not is_express(case):
        adapter_opts.setdefault("credentials", credentials())
        adapter_opts.setdefault("project", PROJECT)
    return allm.Engine(
        adapter=Vertex(), model=model_of(case), adapter_opts=adapter_opts, retry=retry
    )


def is_express(case: Case) -> bool:
    return "x-goog-api-key" in case.request["headers"]


def request_for(case: Case) -> tuple[allm.Request, dict[str, Any]]:
    """The allm request (and call keywords) whose wire body is the case's."""
    body = case.request["body"]
    if case.directory == CLAUDE:
        wire = {k: v for k, v in body.items() if k != "anthropic_version"}
        request, params = request_from_body({**wire, "model": model_of(case)}, "vertex")
        return request, params
    return request_from_wire(body), {}


__all__ = [
    "CLAUDE",
    "GEMINI",
    "PROJECT",
    "TOKEN",
    "credentials",
    "engine_for",
    "is_express",
    "location_of",
    "model_of",
    "request_for",
]
