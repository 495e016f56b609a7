"""Every Bedrock transcript, replayed whole and byte by byte through the sync and the async API:
the folded Response matches expect.json, and the request the adapter built matches request.json
(URL with the model id percent-encoded, method, a SigV4 signature, the exact body)."""

from __future__ import annotations

from typing import Any

import pytest
from tests.conftest import Driver
from tests.providers.wire import case_names, check_response, load

import allm

from .cases import DIRECTORY, by_name, files, transcripts
from .support import ACCESS_KEY, engine_for

NAME = "bedrock"


def test_the_files_on_disk_are_what_the_encoder_builds() -> None:
    for transcript in transcripts():
        for filename, data in files(transcript).items():
            assert (DIRECTORY / filename).read_bytes() == data, filename


def test_there_are_at_least_twelve_transcripts_streaming_and_not() -> None:
    names = case_names(NAME)
    assert len(names) >= 12
    kinds = {load(NAME, name).expect["stream"] for name in names}
    assert kinds == {True, False}


def _params() -> list[Any]:
    return [
        pytest.param(name, how, id=f"{name}-{how}")
        for name in case_names(NAME)
        for how in ("whole", "bytewise", [5, 12, 13, 40, 99, 250])
    ]


@pytest.mark.parametrize(("name", "how"), _params())
def test_transcript_folds_to_its_expectation(driver: Driver, name: str, how: Any) -> None:
    case = load(NAME, name)
    request = by_name(name).build()
    response = driver.generate(engine_for(case, how), request, streaming=case.expect["stream"])
    assert check_response(response, case.expect) == []


@pytest.mark.parametrize("name", case_names(NAME))
def test_request_matches_the_recorded_request(name: str) -> None:
    case = load(NAME, name)
    allm.generate(engine_for(case), by_name(name).build(), streaming=case.expect["stream"])
    sent = case.seen[-1]
    assert sent.method == case.request["method"]
    assert str(sent.url) == case.request["url"]
    assert sent.headers["authorization"].startswith(f"AWS4-HMAC-SHA256 Credential={ACCESS_KEY}/")
    assert sent.headers["x-amz-date"]
    assert sent.headers["content-type"] == "application/json"
    assert case.sent_body() == case.request["body"]
