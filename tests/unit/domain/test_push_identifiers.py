"""A plan's identifiers, hashed from a shared prefix (ADR 0978), are the planned ones: a
push keeps its identifier across versions, so a re-send after an upgrade is still dropped."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from stripemeter_server.domain.push_plan import push_identifier, push_identifiers

texts = st.text(min_size=1, max_size=40)


@given(texts, texts, texts, st.integers(0, 2**62), st.integers(0, 10**6))
def test_prefix_hashed_once_gives_the_same_identifier(
    tenant: str, metric: str, customer: str, start_us: int, seq: int
) -> None:
    identifier = push_identifiers(tenant, metric)
    assert identifier(customer, start_us, seq) == push_identifier(
        tenant, metric, customer, start_us, seq
    )


def test_identifier_is_pinned() -> None:
    """The value itself: a change of the hash would give a pending push a second identity."""
    assert push_identifier("default", "calls", "cus_1", 1_700_000_000_000_000, 3) == (
        push_identifiers("default", "calls")("cus_1", 1_700_000_000_000_000, 3)
    )
    assert push_identifier("t", "m", "c", 0, 0) == "smp_" + _sha("t\x1fm\x1fc\x1f0\x1f0")


def _sha(material: str) -> str:
    import hashlib

    return hashlib.sha256(material.encode()).hexdigest()[:40]
