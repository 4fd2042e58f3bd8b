"""The local Stripe for `make run` keeps port 12111 across a quick restart, and says when
another process holds it."""

from __future__ import annotations

import socket

from stripe_emulator import EmulatorConfig
from stripemeter_server.cli.local_stripe import _port_is_free, _start


def _listener() -> socket.socket:
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    return sock


def test_a_port_left_in_time_wait_by_a_stopped_server_counts_as_free() -> None:
    server = _listener()
    port = server.getsockname()[1]
    client = socket.create_connection(("127.0.0.1", port))
    accepted, _ = server.accept()
    accepted.close()  # the server side closes first: its end of the connection waits
    client.close()
    server.close()
    assert _port_is_free(port)


def test_a_port_another_process_listens_on_is_not_free() -> None:
    held = _listener()
    try:
        assert not _port_is_free(held.getsockname()[1])
    finally:
        held.close()


def test_the_emulator_moves_to_a_free_port_and_names_the_taken_one() -> None:
    held = _listener()
    port = held.getsockname()[1]
    try:
        server, taken = _start(EmulatorConfig(auto_deliver_webhooks=False), port)
        server.stop()
    finally:
        held.close()
    assert (taken, server.port != port) == (port, True)
