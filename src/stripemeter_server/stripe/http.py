"""The library's HTTP client, pinned: every Stripe call goes to a checked address (ADR 0700).

The official library builds its own httpx client; this subclass swaps the synchronous one
for a client whose transport checks the host against the operator's allow-list
(``STRIPEMETER_STRIPE_API_HOSTS``), resolves it once and connects to the checked address.
"""

from __future__ import annotations

from typing import Any

import stripe

from stripemeter_server.domain.destinations import STRIPE_API_HOSTS, HostAllowList
from stripemeter_server.outbound.pinned import StripeHostGuard, pinned_client


class PinnedHTTPXClient(stripe.HTTPXClient):
    """The library's httpx client, its synchronous client replaced by one whose transport
    checks the host against the allow-list and connects to the checked address."""

    def __init__(self, allowed: HostAllowList, *, timeout: float) -> None:
        super().__init__(timeout=timeout, allow_sync_methods=True)
        unpinned = self._client
        self._client = pinned_client(
            StripeHostGuard(allowed), timeout=timeout, verify=_verify_context()
        )
        if unpinned is not None:
            unpinned.close()


def _verify_context() -> Any:
    import ssl

    return ssl.create_default_context(cafile=stripe.ca_bundle_path)


def default_hosts() -> HostAllowList:
    return HostAllowList.parse(",".join(STRIPE_API_HOSTS))
