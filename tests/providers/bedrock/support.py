"""Helpers for the Bedrock tests: fixed credentials and engines over recorded transcripts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tests.providers.wire import Case

import allm
from allm.providers.bedrock import Bedrock

from .cases import MODEL

ACCESS_KEY = "AKIDEXAMPLEBEDROCK"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
SESSION_TOKEN = "IQoJb3JpZ2luX2VjEXAMPLESESSIONTOKEN"


def adapter(**settings: Any) -> Bedrock:
    """A Bedrock adapter in us-east-1 with the fixed test credentials (unless overridden)."""
    defaults: dict[str, Any] = {
        "region": "us-east-1",
        "aws_access_key_id": ACCESS_KEY,
        "aws_secret_access_key": SECRET_KEY,
    }
    return Bedrock(**{**defaults, **settings})


def engine_for(
    case: Case, how: str | Sequence[int] = "whole", *, retry: Any = False, **opts: Any
) -> allm.Engine:
    """An engine whose sync and async clients both serve ``case``."""
    return allm.Engine(
        adapter=adapter(),
        model=MODEL,
        adapter_opts={
            "http_client": case.client(how),
            "async_http_client": case.async_client(how),
            **opts,
        },
        retry=retry,
    )
