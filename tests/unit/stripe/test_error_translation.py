"""Every error class the ``stripe`` library defines reaches the use cases as one of the
port's errors (``StripeCallError`` and its subclasses), never as a library exception.

The classes are found by walking ``stripe.StripeError``'s subclasses, so a library upgrade
that adds one is covered (and tested) without anyone listing it here.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import stripe
import stripe.oauth_error
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stripemeter_server.service.ports.stripe import (
    StripeCallError,
    StripeCredentials,
    StripePermanentError,
    StripeRateLimitedError,
    StripeRetryableError,
)
from stripemeter_server.stripe.gateway import StripeGateway


def _subclasses(cls: type[stripe.StripeError]) -> Iterator[type[stripe.StripeError]]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def _name(cls: type[stripe.StripeError]) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


LIBRARY_ERRORS: list[type[stripe.StripeError]] = sorted(
    {stripe.StripeError, *_subclasses(stripe.StripeError)}, key=_name
)
IDS = [_name(c) for c in LIBRARY_ERRORS]


def _instance(cls: type[stripe.StripeError], status: int | None) -> stripe.StripeError:
    """An instance as the library raises it after an HTTP answer. The subclasses' own
    constructors differ (``CardError`` wants a param, ``OAuthError`` a description), so the
    base constructor fills the fields every one of them shares."""
    exc = cls.__new__(cls)
    stripe.StripeError.__init__(
        exc,
        "upstream said no",
        http_body='{"secret": "body"}',
        http_status=status,
        code="some_code",
    )
    return exc


def _raise(exc: stripe.StripeError) -> None:
    raise exc


@pytest.fixture(scope="module")
def gateway() -> Iterator[StripeGateway]:
    made = StripeGateway(StripeCredentials("sk_test_x", api_base="http://127.0.0.1:9"))
    yield made
    made.close()


def _translated(gateway: StripeGateway, exc: stripe.StripeError) -> StripeCallError:
    with pytest.raises(StripeCallError) as caught:
        gateway.call(lambda _client: _raise(exc))
    return caught.value


def test_the_walk_finds_the_classes_the_gateway_names() -> None:
    named = {
        stripe.RateLimitError,
        stripe.APIConnectionError,
        stripe.InvalidRequestError,
        stripe.SignatureVerificationError,
        stripe.TemporarySessionExpiredError,
        stripe.oauth_error.OAuthError,
    }
    assert named <= set(LIBRARY_ERRORS)


@pytest.mark.parametrize("cls", LIBRARY_ERRORS, ids=IDS)
def test_every_library_error_becomes_a_port_error_carrying_its_status_and_code(
    gateway: StripeGateway, cls: type[stripe.StripeError]
) -> None:
    found = _translated(gateway, _instance(cls, 400))
    assert (found.http_status, found.stripe_code) == (400, "some_code")


@pytest.mark.parametrize("cls", LIBRARY_ERRORS, ids=IDS)
def test_a_refusal_is_permanent_unless_it_is_a_rate_limit_or_a_connection_failure(
    gateway: StripeGateway, cls: type[stripe.StripeError]
) -> None:
    found = _translated(gateway, _instance(cls, 400))
    if issubclass(cls, stripe.RateLimitError):
        assert isinstance(found, StripeRateLimitedError)
    elif issubclass(cls, stripe.APIConnectionError):
        assert type(found) is StripeRetryableError
    else:
        assert type(found) is StripePermanentError


@pytest.mark.parametrize("cls", LIBRARY_ERRORS, ids=IDS)
def test_the_upstream_body_is_never_in_the_message(
    gateway: StripeGateway, cls: type[stripe.StripeError]
) -> None:
    assert "secret" not in _translated(gateway, _instance(cls, 400)).message


@pytest.mark.parametrize("cls", LIBRARY_ERRORS, ids=IDS)
def test_the_library_error_is_not_chained_to_the_port_error(
    gateway: StripeGateway, cls: type[stripe.StripeError]
) -> None:
    found = _translated(gateway, _instance(cls, 400))
    assert found.__cause__ is None and found.__suppress_context__


def _expected_kind(cls: type[stripe.StripeError], status: int | None) -> type[StripeCallError]:
    """The classification the port promises: a rate limit (by class or 429) slows down, a
    connection failure, a conflict or a server error is retried, anything else is final."""
    if issubclass(cls, stripe.RateLimitError) or status == 429:
        return StripeRateLimitedError
    if (
        issubclass(cls, stripe.APIConnectionError)
        or status is None
        or status >= 500
        or status == 409
    ):
        return StripeRetryableError
    return StripePermanentError


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    cls=st.sampled_from(LIBRARY_ERRORS),
    status=st.one_of(st.none(), st.integers(min_value=100, max_value=599)),
)
def test_any_class_with_any_status_gets_exactly_the_promised_kind(
    gateway: StripeGateway, cls: type[stripe.StripeError], status: int | None
) -> None:
    assert type(_translated(gateway, _instance(cls, status))) is _expected_kind(cls, status)
