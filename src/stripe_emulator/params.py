"""Declared request parameters and the check that refuses anything undeclared.

Every route declares the parameters it accepts (see `schemas.py`); a request carrying any
other parameter — at the top level or nested, e.g. `recurring[foo]` — is refused the way
Stripe refuses it: 400 `invalid_request_error`, code `parameter_unknown`,
"Received unknown parameter: recurring[foo]".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from stripe_emulator.errors import StripeError


@dataclass(frozen=True)
class Scalar:
    """A string, number or boolean leaf."""


@dataclass(frozen=True)
class Free:
    """A free-form hash (metadata, a meter event's payload): any keys."""


@dataclass(frozen=True)
class Obj:
    """A hash with declared keys."""

    fields: Mapping[str, Spec] = field(default_factory=dict)


@dataclass(frozen=True)
class Arr:
    """An array whose elements follow `item`."""

    item: Spec


@dataclass(frozen=True)
class Legacy:
    """A parameter that exists only for API versions before 2025-03-31.basil."""

    spec: Spec


@dataclass(frozen=True)
class Ignored:
    """A real Stripe parameter the emulator accepts and ignores (listed in the docs'
    known differences)."""

    spec: Spec


@dataclass(frozen=True)
class NotModelled:
    """A real Stripe parameter whose behaviour the emulator does not model yet: refused
    with `emulator_parameter_not_modelled`, never `parameter_unknown` (the caller's code
    is right; the emulator is incomplete)."""


Spec = Scalar | Free | Obj | Arr | Legacy | Ignored | NotModelled
NOT_MODELLED_CODE = "emulator_parameter_not_modelled"

S = Scalar()
FREE = Free()
EXPAND = Arr(S)
PAGE = {"limit": S, "starting_after": S, "ending_before": S}


def obj(**fields: Spec) -> Obj:
    return Obj(fields)


def _path(parent: str, key: str) -> str:
    return key if not parent else f"{parent}[{key}]"


def unknown_params(value: Any, spec: Spec, *, legacy: bool, path: str = "") -> list[str]:
    """Every parameter path in `value` that `spec` does not declare."""
    if isinstance(spec, Legacy):
        return unknown_params(value, spec.spec, legacy=legacy, path=path)
    if isinstance(spec, Free | Ignored | NotModelled):
        return []
    if isinstance(spec, Arr):
        if isinstance(value, list):
            found: list[str] = []
            for index, element in enumerate(value):
                found += unknown_params(element, spec.item, legacy=legacy, path=f"{path}[{index}]")
            return found
        return unknown_params(value, spec.item, legacy=legacy, path=path)
    if not isinstance(value, dict):
        return []
    if isinstance(spec, Scalar):  # `email[foo]=x`: nested keys under a leaf
        return [_path(path, str(k)) for k in value]
    found = []
    for key, inner in value.items():
        declared = spec.fields.get(str(key))
        if declared is None or (isinstance(declared, Legacy) and not legacy):
            found.append(_path(path, str(key)))
            continue
        found += unknown_params(inner, declared, legacy=legacy, path=_path(path, str(key)))
    return found


def check_params(params: dict[str, Any], spec: Obj, *, legacy: bool) -> None:
    """Raise Stripe's 400 `parameter_unknown` if any parameter is not declared."""
    unknown = unknown_params(params, spec, legacy=legacy)
    if unknown:
        noun = "parameter" if len(unknown) == 1 else "parameters"
        raise StripeError(
            400,
            f"Received unknown {noun}: {', '.join(unknown)}",
            code="parameter_unknown",
            param=unknown[0],
        )
    for key in params:
        if isinstance(spec.fields.get(str(key)), NotModelled):
            raise StripeError(
                400,
                f"The Stripe emulator does not model the parameter `{key}` yet. It is a "
                "real Stripe parameter: see the compatibility table in "
                "docs/stripe-emulator.md.",
                code=NOT_MODELLED_CODE,
                param=str(key),
            )
