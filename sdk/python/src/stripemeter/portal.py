"""``client.portal``: mint and revoke customer portal tokens, server side.

A portal token lets a customer's browser read that one customer's usage (docs/portal.md).
Mint it on your server with a key holding the ``admin`` or ``portal`` scope, hand only the
token to the browser, never the key.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from ._core import Op, encode_json

if TYPE_CHECKING:
    from .async_client import AsyncClient
    from .client import StripeMeterClient

__all__ = ["AsyncPortal", "Portal", "PortalToken"]


@dataclass(frozen=True)
class PortalToken:
    """A minted token; ``token`` is the bearer string, shown once."""

    id: str
    token: str
    customer_ref: str
    metrics: list[str] | None
    scopes: list[str]
    expires_at: str
    minted_by: str

    @classmethod
    def from_json(cls, data: Any) -> PortalToken:
        return cls(
            id=data["id"],
            token=data["token"],
            customer_ref=data["customerRef"],
            metrics=data.get("metrics"),
            scopes=list(data.get("scopes") or []),
            expires_at=data["expiresAt"],
            minted_by=data["mintedBy"],
        )


def create_token_op(
    customer_ref: str,
    metrics: Sequence[str] | None,
    scopes: Sequence[str] | None,
    expires_in: int | None,
) -> Op[PortalToken]:
    body: dict[str, Any] = {"customerRef": customer_ref}
    if metrics is not None:
        body["metrics"] = list(metrics)
    if scopes is not None:
        body["scopes"] = list(scopes)
    if expires_in is not None:
        body["expiresIn"] = expires_in
    return Op("POST", "/v1/portal/tokens", PortalToken.from_json, body=encode_json(body))


def revoke_token_op(token_id: str) -> Op[None]:
    return Op("DELETE", "/v1/portal/tokens/" + quote(token_id, safe=""), lambda _data: None)


class Portal:
    """``client.portal`` of :class:`~stripemeter.StripeMeterClient`."""

    def __init__(self, client: StripeMeterClient) -> None:
        self._client = client

    def create_token(
        self,
        customer_ref: str,
        *,
        metrics: Sequence[str] | None = None,
        scopes: Sequence[str] | None = None,
        expires_in: int | None = None,
    ) -> PortalToken:
        """A token reading ``customer_ref`` only (and only ``metrics`` when given) for
        ``expires_in`` seconds (at most 86 400; the server's default is 3 600)."""
        return self._client._call(create_token_op(customer_ref, metrics, scopes, expires_in))

    def revoke_token(self, token_id: str) -> None:
        self._client._call(revoke_token_op(token_id))


class AsyncPortal:
    """``client.portal`` of :class:`~stripemeter.AsyncClient`."""

    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    async def create_token(
        self,
        customer_ref: str,
        *,
        metrics: Sequence[str] | None = None,
        scopes: Sequence[str] | None = None,
        expires_in: int | None = None,
    ) -> PortalToken:
        return await self._client._call(create_token_op(customer_ref, metrics, scopes, expires_in))

    async def revoke_token(self, token_id: str) -> None:
        await self._client._call(revoke_token_op(token_id))
