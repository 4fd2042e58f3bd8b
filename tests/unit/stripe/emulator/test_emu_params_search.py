"""Parameter schemas, version checks and the customer search query parser."""

from __future__ import annotations

import pytest

from stripe_emulator.errors import StripeError
from stripe_emulator.params import FREE, Arr, Legacy, S, obj, unknown_params
from stripe_emulator.search import parse_query
from stripe_emulator.versions import is_legacy

SPEC = obj(
    name=S,
    metadata=FREE,
    recurring=obj(interval=S, aggregate_usage=Legacy(S)),
    items=Arr(obj(price=S)),
    expand=Arr(S),
)


def test_declared_parameters_pass() -> None:
    params = {
        "name": "a",
        "metadata": {"x": "1"},
        "items": [{"price": "p"}],
        "expand": ["data"],
        "recurring": {"interval": "month"},
    }
    assert unknown_params(params, SPEC, legacy=False) == []


def test_nested_unknowns_are_named_with_brackets() -> None:
    params = {"recurring": {"foo": "1"}, "items": [{"price": "p"}, {"bar": "2"}]}
    assert unknown_params(params, SPEC, legacy=False) == ["recurring[foo]", "items[1][bar]"]


def test_keys_under_a_scalar_are_unknown() -> None:
    assert unknown_params({"name": {"first": "a"}}, SPEC, legacy=False) == ["name[first]"]


def test_legacy_parameter_depends_on_the_version() -> None:
    params = {"recurring": {"aggregate_usage": "sum"}}
    assert (
        unknown_params(params, SPEC, legacy=False),
        unknown_params(params, SPEC, legacy=True),
    ) == (["recurring[aggregate_usage]"], [])


@pytest.mark.parametrize(
    ("version", "legacy"),
    [
        (None, False),
        ("2025-03-31.basil", False),
        ("2026-10-28.endive", False),
        ("2024-06-20", True),
        ("2025-02-24.acacia", True),
    ],
)
def test_versions_before_basil_are_legacy(version: str | None, legacy: bool) -> None:
    assert is_legacy(version) is legacy


def test_query_parses_metadata_and_email_clauses() -> None:
    clauses, joiner = parse_query("metadata['ref']:'r1' AND email:\"a@b.c\"")
    assert ([(c.field, c.key, c.value) for c in clauses], joiner) == (
        [("metadata", "ref", "r1"), ("email", None, "a@b.c")],
        "AND",
    )


def test_query_accepts_escaped_quotes() -> None:
    clauses, _ = parse_query(r"name:'O\'Brien'")
    assert clauses[0].value == "O'Brien"


def test_query_created_comparison() -> None:
    clauses, _ = parse_query("created>=1700000000")
    assert (clauses[0].op, clauses[0].value) == (">=", "1700000000")


@pytest.mark.parametrize(
    "query",
    [
        "",
        "email",
        "email:'a' AND",
        "email:'a' name:'b'",
        "email~'ab'",
        "name>'a'",
        "created:'soon'",
    ],
)
def test_malformed_queries_are_refused(query: str) -> None:
    with pytest.raises(StripeError) as info:
        parse_query(query)
    assert info.value.param == "query"
