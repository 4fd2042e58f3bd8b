"""A tenant's Stripe account: set it (secrets sealed), show it (never the secrets), and
resolve the credentials a push or webhook needs.

A single-tenant install may configure the ``default`` tenant from the environment
(``STRIPEMETER_STRIPE_*``); an account stored through the API always wins over it.

``apiBase`` is accepted only for a host on the operator's allow-list (ADR 0700). A new
webhook secret takes effect at once; the one it replaces stays valid for a grace period
(the body's ``webhookSecretGraceSeconds``, else the operator's default), then is refused
(ADR 0701).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from stripemeter_server.domain.destinations import STRIPE_API_HOSTS, HostAllowList
from stripemeter_server.domain.destinations import parse_destination as _destination
from stripemeter_server.domain.errors import ConflictError, NotFoundError, ValidationError
from stripemeter_server.domain.timestamps import MICROS, to_micros
from stripemeter_server.service.operations import audit
from stripemeter_server.service.ports.stripe import Cipher, StripeCredentials
from stripemeter_server.service.ports.unit_of_work import Store
from stripemeter_server.service.runner import run_use_case
from stripemeter_server.service.stripe_sync.ports.accounts import StoredStripeAccount
from stripemeter_server.service.stripe_sync.ports.unit_of_work import (
    StripeSyncUnitOfWork as UnitOfWork,
)
from stripemeter_server.service.tenant_rounds import all_tenants

ENVIRONMENT_TENANT = "default"
# What each credential must look like (the edge refuses anything else, naming the field).
SECRET_KEY = re.compile(r"(sk|rk)_(test|live)_[A-Za-z0-9_]{1,240}", re.ASCII)
SECRET_KEY_TEXT = "a Stripe secret or restricted key (sk_test_…, sk_live_…, rk_…)"
WEBHOOK_SECRET = re.compile(r"whsec_[A-Za-z0-9_+/=]{1,240}", re.ASCII)
WEBHOOK_TEXT = "a webhook signing secret (whsec_…)"
API_BASE = re.compile(r"https?://[A-Za-z0-9.\-\[\]:]{1,200}(/[A-Za-z0-9._~/\-]{0,40})?", re.ASCII)
API_BASE_TEXT = "an http(s) base URL (e.g. the emulator's)"
MAX_GRACE_SECONDS = 7 * 86400


@dataclass(frozen=True)
class AccountPolicy:
    """The operator's rules for stored accounts: the Stripe API hosts an ``apiBase`` may
    name, and how long a replaced webhook secret stays valid by default."""

    allowed_hosts: HostAllowList = field(
        default_factory=lambda: HostAllowList.parse(",".join(STRIPE_API_HOSTS))
    )
    webhook_grace_seconds: int = 86400


@dataclass(frozen=True)
class AccountChange:
    """A parsed ``PUT /v1/stripe/account``: the credentials and the replaced webhook
    secret's grace period."""

    credentials: StripeCredentials
    grace_seconds: int


@dataclass(frozen=True)
class AccountView:
    """Whether and how the account is configured; never a secret."""

    configured: bool
    source: str | None
    livemode: bool
    key_last4: str | None
    webhook_secret_configured: bool
    previous_valid_until_us: int | None
    api_base: str | None


def check_api_base(base: str, allowed: HostAllowList) -> None:
    destination = _destination(base, "apiBase")
    if not allowed.allows(destination):
        raise ValidationError(
            f"apiBase host {destination.authority} is not on this server's Stripe API host "
            f"allow-list (STRIPEMETER_STRIPE_API_HOSTS: {allowed.describe()})",
            code="api_base_not_allowed",
            field="apiBase",
        )


def set_account(
    uow: UnitOfWork, cipher: Cipher | None, change: AccountChange, now: datetime
) -> AccountView:
    credentials = change.credentials
    if cipher is None:
        raise ConflictError(
            "secrets cannot be stored: STRIPEMETER_SECRET_KEY is not set on this server",
            code="secret_key_not_configured",
        )
    existing = uow.stripe_accounts.get()
    before = None if existing is None else _audit_view(existing, cipher)
    now_us = to_micros(now)
    previous, until = _previous_secret(existing, before, credentials, change.grace_seconds, now_us)
    uow.stripe_accounts.put(
        StoredStripeAccount(
            secret_key_enc=cipher.seal(credentials.secret_key),
            webhook_secret_enc=None
            if credentials.webhook_secret is None
            else cipher.seal(credentials.webhook_secret),
            api_base=credentials.api_base,
            key_last4=credentials.secret_key[-4:],
            livemode=credentials.livemode,
            created_us=existing.created_us if existing else now_us,
            updated_us=now_us,
            previous_webhook_secret_enc=previous,
            previous_valid_until_us=until,
        )
    )
    given = {
        "secretKey": credentials.secret_key,
        "webhookSecret": credentials.webhook_secret,
        "apiBase": credentials.api_base,
        "livemode": credentials.livemode,
    }
    audit.record(
        uow,
        now,
        "stripe_account.put",
        "stripe_account",
        "default",
        before=None if before is None else audit.redacted(before, _SECRETS),
        after=audit.redacted(given, _SECRETS, before or {}),
    )
    return account_view(uow, None)


_SECRETS = ("secretKey", "webhookSecret")


def _previous_secret(
    existing: StoredStripeAccount | None,
    before: dict[str, Any] | None,
    new: StripeCredentials,
    grace_s: int,
    now_us: int,
) -> tuple[str | None, int | None]:
    """The (sealed) secret to keep accepting, and until when: the replaced one for
    ``grace_s`` when the webhook secret changes; the pending grace when it does not."""
    if existing is None or before is None:
        return None, None
    if before.get("webhookSecret") == new.webhook_secret:
        return existing.previous_webhook_secret_enc, existing.previous_valid_until_us
    if existing.webhook_secret_enc is None or grace_s <= 0:
        return None, None
    return existing.webhook_secret_enc, now_us + grace_s * MICROS


def _audit_view(stored: StoredStripeAccount, cipher: Cipher | None) -> dict[str, Any]:
    """The stored account with its secrets opened, only to tell "changed" from "unchanged"
    (:func:`audit.redacted` replaces them before anything is written)."""

    def opened(sealed: str | None) -> str | None:
        if sealed is None or cipher is None:
            return sealed
        try:
            return cipher.open(sealed)
        except ValidationError:  # an old key that no longer opens it: count it as changed
            return sealed

    return {
        "secretKey": opened(stored.secret_key_enc),
        "webhookSecret": opened(stored.webhook_secret_enc),
        "apiBase": stored.api_base,
        "livemode": stored.livemode,
    }


def delete_account(uow: UnitOfWork, now: datetime) -> None:
    existing = uow.stripe_accounts.get()
    if existing is None or not uow.stripe_accounts.delete():
        raise NotFoundError(
            "no Stripe account is stored for this tenant", code="stripe_account_not_found"
        )
    audit.record(
        uow,
        now,
        "stripe_account.delete",
        "stripe_account",
        "default",
        before=audit.redacted(_audit_view(existing, None), _SECRETS),
    )


def account_view(uow: UnitOfWork, environment: StripeCredentials | None) -> AccountView:
    """What the API shows: whether it is configured and how, never a secret."""
    stored = uow.stripe_accounts.get()
    if stored is not None:
        until = stored.previous_valid_until_us if stored.previous_webhook_secret_enc else None
        return AccountView(
            True,
            "api",
            stored.livemode,
            stored.key_last4,
            stored.webhook_secret_enc is not None,
            until,
            stored.api_base,
        )
    env = environment if uow.tenant_id == ENVIRONMENT_TENANT else None
    if env is not None:
        return AccountView(
            True,
            "environment",
            env.livemode,
            env.secret_key[-4:],
            env.webhook_secret is not None,
            None,
            env.api_base,
        )
    return AccountView(False, None, False, None, False, None, None)


def credentials_for(
    uow: UnitOfWork, cipher: Cipher | None, environment: StripeCredentials | None
) -> StripeCredentials | None:
    """The tenant's credentials (stored, else the environment's for ``default``), or None."""
    stored = uow.stripe_accounts.get()
    if stored is not None:
        if cipher is None:
            raise ConflictError(
                "the stored Stripe account cannot be read: STRIPEMETER_SECRET_KEY is not set",
                code="secret_key_not_configured",
            )
        webhook = (
            None if stored.webhook_secret_enc is None else cipher.open(stored.webhook_secret_enc)
        )
        return StripeCredentials(cipher.open(stored.secret_key_enc), webhook, stored.api_base)
    if uow.tenant_id == ENVIRONMENT_TENANT:
        return environment
    return None


def webhook_secrets(
    uow: UnitOfWork, cipher: Cipher | None, environment: StripeCredentials | None, now: datetime
) -> list[str]:
    """The secrets a webhook of this tenant may be signed with right now, read from the
    store on every call: the current one, and the previous one until its grace ends."""
    credentials = credentials_for(uow, cipher, environment)
    found = [credentials.webhook_secret] if credentials and credentials.webhook_secret else []
    stored = uow.stripe_accounts.get()
    if (
        stored is not None
        and cipher is not None
        and stored.previous_webhook_secret_enc
        and stored.previous_valid_until_us is not None
        and to_micros(now) < stored.previous_valid_until_us
    ):
        found.append(cipher.open(stored.previous_webhook_secret_enc))
    return found


def tenants_with_stripe(store: Store, environment: StripeCredentials | None) -> list[str]:
    """Every tenant whose usage can reach Stripe (the background workers' work list): the
    tenants list, then each tenant's own account, one single-tenant read each (ADR 0810)."""
    found = {ENVIRONMENT_TENANT} if environment is not None else set()
    for tenant in all_tenants(store):
        if tenant not in found and run_use_case(
            store, tenant, lambda uow: uow.stripe_accounts.get() is not None, read_only=True
        ):
            found.add(tenant)
    return sorted(found)
