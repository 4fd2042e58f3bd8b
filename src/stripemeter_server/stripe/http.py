"""The library's HTTP client, pinned: every Stripe call goes to a checked address (ADR 0700).

The official library takes any ``stripe.HTTPClient``. ``PinnedStripeHTTPClient`` sends
through :class:`~stripemeter_server.outbound.pinned_pool.PinnedPool`: the host is checked
against the operator's allow-list (``STRIPEMETER_STRIPE_API_HOSTS``), resolved once and
connected at the checked address, on kept-alive standard-library connections (ADR 0963:
about a quarter of a meter event's client CPU less than the library's httpx client), the
answers parsed by ``httptools`` (ADR 0966).
Failures surface as the library's ``APIConnectionError`` with the cause chained, as the
library's own clients raise them, so ``errors.py`` tells a blocked host from a blip.
"""

from __future__ import annotations

import ssl
import textwrap
from collections.abc import Mapping
from typing import Any, NoReturn

import stripe

from stripemeter_server.domain.destinations import STRIPE_API_HOSTS, HostAllowList
from stripemeter_server.outbound.pinned import StripeHostGuard
from stripemeter_server.outbound.pinned_pool import PinnedPool


class PinnedStripeHTTPClient(stripe.HTTPClient):
    """The library's synchronous HTTP client on a pinned, kept-alive pool (one per
    account: the gateway holds one)."""

    name = "stripemeter-pinned"

    def __init__(self, allowed: HostAllowList, *, timeout: float) -> None:
        super().__init__()
        self._pool = PinnedPool(
            StripeHostGuard(allowed), timeout=timeout, context=_verify_context()
        )

    def request(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str] | None,
        post_data: Any = None,
        *,
        _usage: list[str] | None = None,
    ) -> tuple[Any, int, Mapping[str, str]]:
        body = post_data.encode() if isinstance(post_data, str) else post_data
        try:
            status, content, found = self._pool.request(method, url, headers or {}, body)
        except Exception as exc:
            _connection_error(exc)
        answer: Any = found
        return content, status, answer

    def request_stream(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str] | None,
        post_data: Any = None,
        *,
        _usage: list[str] | None = None,
    ) -> tuple[Any, int, Mapping[str, str]]:
        """The answer read whole, as one chunk (no Stripe call of the project streams)."""
        content, status, found = self.request(method, url, headers, post_data)
        return iter((content,)), status, found

    def close(self) -> None:
        self._pool.close()


def _connection_error(exc: Exception) -> NoReturn:
    """As the library's own clients: a retryable ``APIConnectionError`` naming only the
    exception's class, the exception chained as its cause."""
    msg = textwrap.fill(
        "Unexpected error communicating with Stripe. If this problem persists, "
        "let us know at support@stripe.com."
    )
    msg += f"\n\n(Network error: A {type(exc).__name__} was raised)"
    raise stripe.APIConnectionError(msg, should_retry=True) from exc  # type: ignore[no-untyped-call]


def _verify_context() -> ssl.SSLContext:
    return ssl.create_default_context(cafile=stripe.ca_bundle_path)


def default_hosts() -> HostAllowList:
    return HostAllowList.parse(",".join(STRIPE_API_HOSTS))
