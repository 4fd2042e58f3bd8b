"""The user guide's compatibility table says, per resource, what the emulator refuses as not
modelled yet: every parameter in `NOT_MODELLED` and every kept or accepted one is named
there, so the guide cannot drift from the tables the emulator enforces."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pytest

from stripe_emulator.param_tables import ECHOED, IGNORED, NOT_MODELLED

GUIDE = Path(__file__).resolve().parents[3] / "docs" / "stripe-emulator.md"


def _table() -> str:
    text = GUIDE.read_text()
    start = text.index("## Compatibility, per resource")
    return text[start : text.index("\n## ", start + 1)]


def _named(name: str, table: str) -> bool:
    """Named as `name`, `name[…]`, in a bracket list, or by a wildcard (`current_period_*`)."""
    if "_" in name and f"`{name.rsplit('_', 1)[0]}_*`" in table:
        return True
    return (
        f"`{name}`" in table
        or f"`{name}[" in table
        or f", {name}`" in table
        or f"`{name}," in table
        or f", {name}," in table
        or f", {name}]" in table
    )


TABLES: dict[str, dict[tuple[str, str], Iterable[str]]] = {
    "not modelled": dict(NOT_MODELLED),
    "accepted": dict(IGNORED),
    "kept": dict(ECHOED),
}


@pytest.mark.parametrize("table_name", sorted(TABLES))
def test_every_tabled_parameter_is_named_in_the_guide(table_name: str) -> None:
    guide = _table()
    missing = sorted(
        {name for names in TABLES[table_name].values() for name in names if not _named(name, guide)}
    )
    assert missing == [], f"{table_name} parameters missing from the guide: {missing}"


def test_the_table_has_a_row_per_resource_family() -> None:
    rows = [
        line.split("|")[1].strip()
        for line in _table().splitlines()
        if line.startswith("| ") and not line.startswith("| Resource")
    ]
    assert {"Customers", "Products", "Prices", "Subscriptions"} <= set(rows)
