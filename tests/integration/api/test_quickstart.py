"""The README's quickstart works when pasted: step 1 defines the metric (defining it again,
or after a tenant that auto-creates metrics made it, is no conflict), and step 2 sent twice is
one event; the banner's own "Try it" lines, the ingest pasted twice, are one event too."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from stripemeter_server.cli.serve_cmds import _print_welcome
from stripemeter_server.config import Settings
from tests.integration.api.conftest import Api

README = Path(__file__).resolve().parents[3] / "README.md"


def step_body(marker: str) -> Any:
    """The JSON body (-d '…') of the quickstart curl after the comment starting ``marker``."""
    text = README.read_text()
    after = text[text.index(marker) :]
    raw = re.search(r"-d '(\{.*\})'", after)
    assert raw is not None
    return json.loads(raw.group(1).replace("""'"$TS"'""", "2025-01-16T14:00:00Z"))


def test_step_one_after_the_printed_ingest_line_is_not_a_conflict(api: Api) -> None:
    printed = {"events": [{"metric": "api_calls", "customerRef": "cus_ABC123", "quantity": 100}]}
    assert api.post("/v1/events/ingest", printed).json()["accepted"] == 1
    response = api.post("/v1/metrics", step_body("# 1. define the metric"))
    assert response.status_code == 200, response.text  # the same definition: no 409


def test_step_two_sent_twice_is_one_event(api: Api) -> None:
    body = step_body("# 2. ingest")
    first, second = api.post("/v1/events/ingest", body), api.post("/v1/events/ingest", body)
    assert (first.json()["accepted"], second.json()["duplicates"]) == (1, 1)


def test_the_banners_try_it_line_sent_twice_is_one_event(
    api: Api,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _print_welcome(
        "127.0.0.1",
        3000,
        "smk_new_key",
        Settings(database_url="sqlite:///x.db"),
        now=api.clock.now(),
    )
    metric, body = (
        json.loads(raw) for raw in re.findall(r"-d '(\{.*\})'", capsys.readouterr().err)
    )
    assert api.post("/v1/metrics", metric).status_code in (200, 201)
    first = api.post("/v1/events/ingest", body)
    api.clock.advance(timedelta(seconds=5))  # pasted again a little later: same event
    second = api.post("/v1/events/ingest", body)
    assert (first.json()["accepted"], second.json()["duplicates"]) == (1, 1)
