"""Where an Azure OpenAI call goes: the v1 API (``https://{resource}.openai.azure.com/openai/v1``)
or, with ``api_version``, the dated deployment form."""

from __future__ import annotations

import re
from urllib.parse import quote

from ...adapters.urls import path_segment
from ...errors import ConfigurationError
from ..openai import CHAT_COMPLETIONS

_RESOURCE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,62}$")
_V1 = "/openai/v1"


def resource_base(resource: object) -> str:
    """``https://{resource}.openai.azure.com`` for a valid resource name."""
    if not isinstance(resource, str) or not _RESOURCE.match(resource):
        raise ConfigurationError(
            "invalid_option",
            problems=[f"azure resource must be letters, digits and '-', got {resource!r}"],
        )
    return f"https://{resource}.openai.azure.com"


def azure_url(root: str, endpoint: str, deployment: str, api_version: str | None) -> str:
    """The request URL. ``root`` is the resource (or gateway) URL, with or without ``/openai/v1``:
    without ``api_version`` the v1 paths (``/openai/v1/chat/completions``, ``/responses``),
    with it ``/openai/deployments/{deployment}/chat/completions?api-version=...`` or
    ``/openai/responses?api-version=...``."""
    root = root.rstrip("/")
    if api_version is None:
        base = root if root.endswith(_V1) else root + _V1
        return base + ("/chat/completions" if endpoint == CHAT_COMPLETIONS else "/responses")
    for suffix in (_V1, "/openai"):
        if root.endswith(suffix):
            root = root[: -len(suffix)]
            break
    version = quote(api_version, safe="-.")
    if endpoint == CHAT_COMPLETIONS:
        name = path_segment(deployment, provider="azure")
        return f"{root}/openai/deployments/{name}/chat/completions?api-version={version}"
    return f"{root}/openai/responses?api-version={version}"
