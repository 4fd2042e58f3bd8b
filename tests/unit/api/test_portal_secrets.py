"""A portal token never reaches a log line, even in a full URL (uvicorn's access log)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from stripemeter_server.api.logs import scrub

SECRET_CHARS = st.text(
    alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-",
    min_size=16,
    max_size=40,
)


@given(token_id=st.text(alphabet="0123456789abcdef", min_size=20, max_size=20), secret=SECRET_CHARS)
def test_a_portal_token_in_a_url_is_masked(token_id: str, secret: str) -> None:
    line = f'127.0.0.1:5000 - "GET /portal?token=smp_ptk_{token_id}.{secret} HTTP/1.1" 200'
    assert secret not in scrub(line)
