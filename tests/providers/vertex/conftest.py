"""Every Vertex test runs with no Google credentials of the machine's (no application default
credentials file, no gcloud configuration, no metadata server probe, no project or key), and
google-auth's HTTP transport refuses any host but 127.0.0.1: a token refresh that would leave the
machine fails the test instead."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from google.auth.transport import requests as google_requests


@pytest.fixture(autouse=True)
def no_ambient_google_credentials(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[None]:
    monkeypatch.setenv("NO_GCE_CHECK", "True")
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "absent.json"))
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path / "gcloud"))
    for name in (
        "GOOGLE_CLOUD_PROJECT",
        "GCLOUD_PROJECT",
        "GOOGLE_CLOUD_LOCATION",
        "GOOGLE_API_KEY",
    ):
        monkeypatch.delenv(name, raising=False)
    send = google_requests.Request.__call__

    def loopback_only(self: Any, url: str, *args: Any, **kwargs: Any) -> Any:
        if urlsplit(url).hostname != "127.0.0.1":
            raise AssertionError(f"a test tried to reach {url}")
        return send(self, url, *args, **kwargs)

    monkeypatch.setattr(google_requests.Request, "__call__", loopback_only)
    yield
