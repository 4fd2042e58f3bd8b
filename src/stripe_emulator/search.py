"""Customer search: Stripe's search query language over the customers collection.

Supported: clauses `field:value` (exact, case-insensitive), `field~value` (substring, at
least 3 characters), `-field:value` (negation), `field:null`, and `created` with `:`, `>`,
`<`, `>=`, `<=`; fields `email`, `name`, `phone`, `created`, `metadata['key']`; clauses
joined by `AND` or by `OR` (not both, at most 10). Results are immediate (Stripe's search
lags writes by up to a minute) and newest first; `page` is an opaque offset cursor.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from stripe_emulator.errors import StripeError
from stripe_emulator.forms import get_int, get_str, req_str
from stripe_emulator.routing import Req
from stripe_emulator.store import public

STRING_FIELDS = ("email", "name", "phone")
MAX_CLAUSES = 10
_CLAUSE = re.compile(
    r"""\s*(?P<neg>-)?(?P<field>metadata\[(?P<q>['"])(?P<key>[^'"\]]+)(?P=q)\]|[a-z_]+)"""
    r"""\s*(?P<op>>=|<=|:|~|>|<)\s*"""
    r"""(?:'(?P<sq>(?:[^'\\]|\\.)*)'|"(?P<dq>(?:[^"\\]|\\.)*)"|(?P<bare>[^\s'"]+))\s*"""
)
_JOINER = re.compile(r"\s*(AND|OR)\s+")


def _bad_query(message: str) -> StripeError:
    return StripeError(400, message, code="parameter_invalid_string", param="query")


@dataclass(frozen=True)
class Clause:
    field: str
    key: str | None
    op: str
    value: str | None  # None: `null`
    negated: bool
    quoted: bool

    def matches(self, customer: dict[str, Any]) -> bool:
        return self._test(customer) != self.negated

    def _test(self, customer: dict[str, Any]) -> bool:
        if self.field == "created":
            return _compare(int(customer["created"]), self.op, int(self.value or 0))
        actual = (
            (customer.get("metadata") or {}).get(self.key or "")
            if self.field == "metadata"
            else customer.get(self.field)
        )
        if self.value is None:
            return actual is None
        if actual is None:
            return False
        if self.op == "~":
            return self.value.lower() in str(actual).lower()
        return str(actual).lower() == self.value.lower()


def _compare(actual: int, op: str, wanted: int) -> bool:
    ops: dict[str, Callable[[int, int], bool]] = {
        ":": lambda a, b: a == b,
        ">": lambda a, b: a > b,
        "<": lambda a, b: a < b,
        ">=": lambda a, b: a >= b,
        "<=": lambda a, b: a <= b,
    }
    return ops[op](actual, wanted)


def _clause(m: re.Match[str]) -> Clause:
    raw_field, key, op = m.group("field"), m.group("key"), m.group("op")
    field = "metadata" if key is not None else raw_field
    quoted = m.group("bare") is None
    raw = next(v for v in (m.group("sq"), m.group("dq"), m.group("bare"), "") if v is not None)
    value: str | None = re.sub(r"\\(.)", r"\1", raw)
    if not quoted and raw == "null":
        value = None
    if field not in (*STRING_FIELDS, "metadata", "created"):
        raise _bad_query(
            f"Field '{raw_field}' is an unsupported search field for resource "
            "customers. See https://stripe.com/docs/search#query-fields-for-"
            "customers for a list of supported fields."
        )
    if field == "created":
        if value is None or not value.isdigit():
            raise _bad_query(f"created must be compared with a Unix timestamp, got {raw!r}.")
    elif op not in (":", "~"):
        raise _bad_query(f"The operator '{op}' is not supported for field '{raw_field}'.")
    elif not quoted and value is not None:
        raise _bad_query(f"String values must be quoted: {raw_field}{op}{raw}.")
    if op == "~" and (value is None or len(value) < 3):
        raise _bad_query("Substring matching (~) requires at least 3 characters.")
    return Clause(field, key, op, value, m.group("neg") is not None, quoted)


def parse_query(query: str) -> tuple[list[Clause], str]:
    """Clauses and their joiner (`AND`/`OR`); raises 400 for what Stripe would refuse."""
    clauses: list[Clause] = []
    joiners: set[str] = set()
    pos = 0
    while True:
        m = _CLAUSE.match(query, pos)
        if m is None:
            raise _bad_query(f"Invalid query: could not parse '{query[pos:]}'.")
        clauses.append(_clause(m))
        pos = m.end()
        if pos >= len(query):
            break
        j = _JOINER.match(query, pos)
        if j is None:
            raise _bad_query(f"Invalid query: expected AND or OR before '{query[pos:]}'.")
        joiners.add(j.group(1))
        pos = j.end()
    if len(joiners) > 1:
        raise _bad_query("A query cannot combine AND and OR clauses.")
    if len(clauses) > MAX_CLAUSES:
        raise _bad_query(f"A query can contain at most {MAX_CLAUSES} clauses.")
    return clauses, joiners.pop() if joiners else "AND"


def _offset(page: str | None) -> int:
    if page is None:
        return 0
    try:
        return int(base64.urlsafe_b64decode(page.encode()).decode().removeprefix("offset:"))
    except (ValueError, UnicodeDecodeError):
        raise _bad_query(f"Invalid page: {page}") from None


def search_customers(req: Req) -> Any:
    p = req.params
    clauses, joiner = parse_query(req_str(p, "query"))
    combine = all if joiner == "AND" else any
    found = [
        public(c)
        for c in reversed(list(req.emu.store.collection("customers").values()))
        if combine(clause.matches(c) for clause in clauses)
    ]
    limit = max(1, min(get_int(p, "limit") or 10, 100))
    start = _offset(get_str(p, "page"))
    chunk = found[start : start + limit]
    more = start + limit < len(found)
    token = base64.urlsafe_b64encode(f"offset:{start + limit}".encode()).decode()
    return {
        "object": "search_result",
        "data": chunk,
        "has_more": more,
        "next_page": token if more else None,
        "url": "/v1/customers/search",
    }
