"""Running the emulator: `run()` for the CLI, `EmulatorServer` for test suites (uvicorn
in a background thread on 127.0.0.1 and a free port)."""

from __future__ import annotations

import socket
import threading
import time
from types import TracebackType
from typing import Any

import httpx
import uvicorn

from stripe_emulator.app import EmulatorApp, create_app
from stripe_emulator.config import EmulatorConfig
from stripe_emulator.engine import Emulator
from stripe_emulator.protocol import EmulatorHttpProtocol


def run(
    host: str = "127.0.0.1",
    port: int = 12111,
    state_file: str | None = None,
    *,
    reset: bool = False,
    async_meter_errors: bool = True,
) -> None:
    """Serve the emulator in the foreground (the `stripemeter stripe-emulator` command);
    `reset` starts from an empty account and today's clock, wiping `state_file`."""
    app = create_app(EmulatorConfig(state_file=state_file, async_meter_errors=async_meter_errors))
    if reset:
        emulator = app.emulator
        emulator.clock.restore(emulator.initial_clock)
        emulator.store.reset()
    # httptools parses HTTP in C and each answer leaves in one write (protocol.py): a meter
    # event costs the emulator far less CPU than with h11, which matters when a pusher is
    # load-tested against it (the faults behave alike).
    # The emulator never reads the client's address: no forwarded-headers middleware.
    uvicorn.run(
        app,
        host=host,
        port=port,
        http=EmulatorHttpProtocol,
        interface="asgi3",
        log_level="info",
        proxy_headers=False,
    )


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class EmulatorServer:
    """Context manager: a live emulator for one test session or module.

    >>> with EmulatorServer() as emu:
    ...     client = emu.stripe_client()
    ...     emu.control("POST", "/clock/advance", {"seconds": 3600})
    """

    def __init__(self, config: EmulatorConfig | None = None, *, port: int | None = None) -> None:
        self.config = config or EmulatorConfig()
        self.app: EmulatorApp = create_app(self.config)
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._server = uvicorn.Server(
            uvicorn.Config(
                self.app,
                host="127.0.0.1",
                port=self.port,
                http=EmulatorHttpProtocol,  # what `run()` serves, so the suites test it
                log_level="critical",
                access_log=False,
                proxy_headers=False,
                lifespan="on",
                interface="asgi3",
                timeout_graceful_shutdown=1,
            )
        )
        self._http: httpx.Client | None = None
        self._thread = threading.Thread(
            target=self._server.run, daemon=True, name=f"stripe-emulator-{self.port}"
        )

    @property
    def emulator(self) -> Emulator:
        return self.app.emulator

    def start(self) -> EmulatorServer:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the Stripe emulator did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        if self._http is not None:
            self._http.close()
            self._http = None
        self._server.should_exit = True
        self._thread.join(timeout=5)

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- conveniences for tests --------------------------------------------------------
    def control(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """Call the control surface (`/_emulator{path}`) and return the JSON body."""
        if self._http is None:
            self._http = httpx.Client(base_url=self.url, timeout=30, trust_env=False)
        response = self._http.request(method, f"/_emulator{path}", json=body)
        response.raise_for_status()
        return response.json()

    def stripe_client(self, api_key: str = "sk_test_emulator", **kwargs: Any) -> Any:
        """A real `stripe.StripeClient` pointed at this emulator (no retries by default)."""
        import stripe

        kwargs.setdefault("max_network_retries", 0)
        return stripe.StripeClient(
            api_key,
            base_addresses={"api": self.url, "meter_events": self.url},
            **kwargs,
        )
