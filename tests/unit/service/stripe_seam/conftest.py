"""The ``env`` of these tests: one tenant, a SQLite store and the in-memory Stripe."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.service.stripe_seam.support import FakeEnv, fake_env


@pytest.fixture
def env(request: pytest.FixtureRequest, tmp_path: Path) -> FakeEnv:
    return fake_env(request, tmp_path)
