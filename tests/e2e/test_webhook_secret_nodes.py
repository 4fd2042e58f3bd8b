"""A webhook secret rotation made through one node is honoured by another at once (issue
18, finding 1): two ``serve`` processes on one PostgreSQL; node B verifies an event before
and after node A stores a new secret, with no restart and no wait."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from stripe import WebhookSignature

from stripemeter_server.service.operations.tenancy import bootstrap
from stripemeter_server.storage.unit_of_work import Store
from tests.e2e.test_scale_out import Process, _ready, _wait
from tests.e2e.test_server_process import free_port
from tests.support.postgres import PostgresServer

KEY = "smk_webhook_nodes_admin_0001"
OLD, NEW = "whsec_NodesOldSecret0001", "whsec_NodesNewSecret0002"
ACCOUNT = {"secretKey": "sk_test_WebhookNodes0001"}


@pytest.fixture
def nodes(pg_server: PostgresServer, tmp_path: Path) -> Iterator[list[str]]:
    url = pg_server.create_database("webhook_nodes")
    store = Store(url)
    store.migrate()
    with store.unit_of_work() as uow:
        bootstrap(uow, datetime.now(UTC), KEY)
        uow.commit()
    store.close()
    env = {
        **os.environ,
        "STRIPEMETER_DATABASE_URL": url,
        "STRIPEMETER_LOCAL_STRIPE": "off",
        "STRIPEMETER_SECRET_KEY": "webhook-nodes-test-secret-key-material",
        "STRIPEMETER_PUSH_WORKER": "false",
    }
    env.pop("STRIPEMETER_BOOTSTRAP_KEY", None)
    with ExitStack() as stack:
        urls = []
        for n in range(2):
            port = free_port()
            node = Process(
                ["serve", "--host", "127.0.0.1", "--port", str(port)],
                env,
                tmp_path / f"node{n}.log",
            )
            stack.callback(node.stop)
            urls.append(f"http://127.0.0.1:{port}")
            _wait(lambda b=urls[-1]: _ready(b), "node did not become ready", node.log)
        yield urls


def _deliver(base: str, secret: str, event_id: str) -> int:
    body = json.dumps(
        {
            "id": event_id,
            "object": "event",
            "type": "customer.created",
            "data": {"object": {"id": "cus_1", "object": "customer"}},
        }
    )
    signature = WebhookSignature.generate_signature_header(body, secret)
    return httpx.post(
        f"{base}/v1/stripe/webhook/default",
        content=body,
        timeout=30,
        headers={"Stripe-Signature": signature},
    ).status_code


def test_a_rotation_through_one_node_is_honoured_by_the_other_at_once(nodes: list[str]) -> None:
    a, b = nodes
    auth = {"Authorization": f"Bearer {KEY}"}
    assert (
        httpx.put(
            f"{a}/v1/stripe/account",
            json={**ACCOUNT, "webhookSecret": OLD},
            headers=auth,
            timeout=30,
        ).status_code
        == 200
    )
    before = _deliver(b, OLD, "evt_nodes_1")
    assert (
        httpx.put(
            f"{a}/v1/stripe/account",
            json={**ACCOUNT, "webhookSecret": NEW, "webhookSecretGraceSeconds": 0},
            headers=auth,
            timeout=30,
        ).status_code
        == 200
    )
    after = (_deliver(b, NEW, "evt_nodes_2"), _deliver(b, OLD, "evt_nodes_3"))
    assert (before, after) == (200, (200, 400))
