"""`keys`, `tenants` and `rebuild` close the store they open: its pooled connections are
closed by the command, not by the garbage collector (a ``ResourceWarning`` each)."""

from __future__ import annotations

from typing import Any

import pytest
from typer.testing import CliRunner

from stripemeter_server.cli import admin_cmds
from stripemeter_server.cli.main import app as cli
from stripemeter_server.storage.unit_of_work import Store


@pytest.mark.parametrize(
    "args",
    [
        ["tenants", "create", "other"],
        ["tenants", "list"],
        ["keys", "create", "--tenant", "acme", "--create-tenant"],
        ["keys", "list"],
        ["rebuild", "--tenant", "acme"],
    ],
)
def test_an_admin_command_closes_every_store_it_opens(
    store: Store, monkeypatch: pytest.MonkeyPatch, args: list[str]
) -> None:
    opened: list[bool] = []  # one entry per store the command opened: closed yet?

    class Recorded(Store):
        def __init__(self, *a: Any, **kw: Any) -> None:
            super().__init__(*a, **kw)
            self.index = len(opened)
            opened.append(False)

        def close(self) -> None:
            opened[self.index] = True
            super().close()

    monkeypatch.setattr(admin_cmds, "Store", Recorded)
    env = {"STRIPEMETER_DATABASE_URL": store.url}
    CliRunner().invoke(cli, ["tenants", "create", "acme"], env=env)  # for the others
    opened.clear()
    result = CliRunner().invoke(cli, args, env=env)
    assert (result.exit_code, opened) == (0, [True]), result.output
