"""Extract the response-object types of Stripe's published API into a small pinned fixture
(`tests/fixtures/stripe_object_types.json`) for the emulator's conformance test.

Input: the type declarations of Stripe's official Node library (`npm pack stripe`), which
are generated from Stripe's OpenAPI spec and keep the two facts a conformance check needs
and the Python library's types lose: whether a field is required (no `?`) and whether it
may be null (`| null`). Only the interfaces reachable from the roots below are kept.

    npm pack stripe@23.2.0 && tar xzf stripe-23.2.0.tgz
    python scripts/stripe_object_types.py package > tests/fixtures/stripe_object_types.json
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

ROOTS = (
    "Customer",
    "Product",
    "Price",
    "Subscription",
    "SubscriptionItem",
    "Invoice",
    "InvoiceLineItem",
    "InvoiceItem",
    "WebhookEndpoint",
    "Event",
    "Billing.Meter",
    "Billing.MeterEvent",
    "Billing.MeterEventAdjustment",
    "Billing.MeterEventSummary",
    "V2.Billing.MeterEvent",
    "V2.Billing.MeterEventAdjustment",
    "V2.Billing.MeterEventSession",
    "DeletedCustomer",
    "DeletedInvoice",
    "DeletedInvoiceItem",
    "DeletedWebhookEndpoint",
    "DeletedProduct",
    # the billing surface beyond metering
    "TestHelpers.TestClock",
    "TestHelpers.DeletedTestClock",
    "Billing.CreditGrant",
    "Billing.CreditBalanceSummary",
    "Billing.CreditBalanceTransaction",
    "Billing.Alert",
    "Billing.AlertTriggered",
    "CreditNote",
    "CreditNoteLineItem",
    "CustomerBalanceTransaction",
    "V2.Core.EventDestination",
    "V2.Core.EventBase",
    "DeletedSubscriptionItem",
    "V2.DeletedObject",
)
# Objects the emulator never returns inside its own (payments): checked as "an object".
NOT_FOLLOWED = (
    "PaymentIntent",
    "PaymentMethod",
    "SetupIntent",
    "InvoicePayment",
    "CashBalance",
    "TaxId",
    "TaxRate",
    "Discount",
    "Plan",
)
_OPEN = re.compile(
    r"(?:export\s+)?(?:declare\s+)?(interface|namespace|class)\s+(\w+)"
    r"(?:<[^>]*>)?(?:\s+extends\s+[^{]+)?\s*\{$"
)
_FIELD = re.compile(r"^(\w+)(\?)?\s*:\s*(.*);$", re.S)


def _balanced(text: str) -> bool:
    return text.count("{") == text.count("}") and text.count("<") == text.count(">")


def split_top(text: str, sep: str = "|") -> list[str]:
    """Split a type on `sep` outside <>, {} and ()."""
    parts, depth, current = [], 0, ""
    for char in text:
        depth += char in "<{("
        depth -= char in ">})"
        if char == sep and depth == 0:
            parts.append(current.strip())
            current = ""
        else:
            current += char
    parts.append(current.strip())
    return [p for p in parts if p]


def parse(text: str, prefix: str, found: dict[str, dict[str, Any]]) -> None:
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    text = re.sub(r"^\s*//[^\n]*", "", text, flags=re.M)
    stack: list[tuple[str, str]] = []
    buf = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("import ", "export {", "export *")):
            continue
        opened = _OPEN.match(line) if not buf else None
        if opened:
            stack.append((opened[1], opened[2]))
            if opened[1] == "interface":
                found.setdefault(prefix + ".".join(n for _, n in stack), {})
            continue
        if line == "}" and not buf:
            if stack:
                stack.pop()
            continue
        if not stack or stack[-1][0] != "interface":
            continue
        buf = f"{buf} {line}".strip()
        if buf.endswith(";") and _balanced(buf):
            field = _FIELD.match(buf)
            buf = ""
            if field:
                owner = prefix + ".".join(n for _, n in stack)
                found[owner][field[1]] = {
                    "optional": bool(field[2]),
                    "type": " ".join(field[3].split()),
                }


def resolve(name: str, owner: str, known: dict[str, Any]) -> str | None:
    """TypeScript scoping: the innermost enclosing namespace that declares `name`."""
    name = name.removeprefix("Stripe.")
    scopes = owner.split(".")
    for cut in range(len(scopes), -1, -1):
        candidate = ".".join([*scopes[:cut], name])
        if candidate in known:
            return candidate
    return None


def describe(type_text: str, owner: str, known: dict[str, Any]) -> list[Any]:
    """A type as a list of alternatives the test understands."""
    out: list[Any] = []
    for alt in split_top(type_text):
        if alt in ("null", "number", "string", "boolean"):
            out.append(alt)
        elif alt.startswith("'"):
            out.append("string")
        elif alt.startswith("Array<") and alt.endswith(">"):
            out.append({"array": describe(alt[6:-1], owner, known)})
        elif alt.startswith("ApiList<") and alt.endswith(">"):
            out.append({"list": describe(alt[8:-1], owner, known)})
        elif alt.startswith("{") or alt in ("Metadata", "Stripe.Metadata", "MetadataParam"):
            out.append("object")
        else:
            target = resolve(alt, owner, known)
            out.append({"ref": target} if target else "any")
    return out


def _followed(alternatives: list[Any]) -> list[str]:
    """The interfaces a field's value must match. An expandable field (`string | Customer`)
    is checked only as its id: the emulator does not expand, so its object is not needed."""
    if "string" in alternatives:
        return []
    refs: list[str] = []
    for alt in alternatives:
        if isinstance(alt, dict):
            inner = alt.get("array") or alt.get("list")
            refs += _followed(inner) if inner is not None else [alt["ref"]]
    return refs


def main(package: Path) -> None:
    known: dict[str, dict[str, Any]] = {}
    base = package / "cjs" / "resources"
    for path in sorted(base.rglob("*.d.ts")):
        rel = path.relative_to(base).parent.parts
        parse(path.read_text(), "".join(f"{p}." for p in rel), known)
    keep: dict[str, Any] = {}
    todo = list(ROOTS)
    while todo:
        name = todo.pop()
        if name in keep or name not in known or name.split(".")[0] in NOT_FOLLOWED:
            continue
        fields = {
            field: {"optional": spec["optional"], "type": describe(spec["type"], name, known)}
            for field, spec in known[name].items()
        }
        keep[name] = fields
        todo += [ref for spec in fields.values() for ref in _followed(spec["type"])]
    version = (package / "OPENAPI_VERSION").read_text().strip()
    source = f"stripe (npm) {(package / 'VERSION').read_text().strip()}, OpenAPI {version}"
    lines = [
        f" {json.dumps(name)}: {json.dumps(keep[name], sort_keys=True)}" for name in sorted(keep)
    ]
    sys.stdout.write(
        '{"source": ' + json.dumps(source) + ', "types": {\n' + ",\n".join(lines) + "\n}}\n"
    )


if __name__ == "__main__":
    main(Path(sys.argv[1]))
