"""An HTTP/1.1 answer read from a socket by ``httptools`` (llhttp), for ``PinnedPool``.

ADR 0963 read the pusher's answers with ``http.client.HTTPResponse``: its header parser
(the standard library's e-mail parser, a buffered file per answer) was the largest part of
what the client did per meter event. ``httptools`` is the parser uvicorn serves with (already
a dependency): llhttp in C does the framing — the status line, headers, lengths, chunks,
interim ``1xx`` answers — and calls back here with the pieces (ADR 0966). What stays here
is reading the socket until llhttp says the answer is complete, and the one framing rule
llhttp leaves to its caller: an answer with neither a length nor chunks ends when the
server closes the connection.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator, Mapping

import httptools

# Bytes asked of the socket per read; Stripe's answers fit in one.
READ_SIZE = 65536
# An answer larger than this is refused (Stripe's largest pages are a few hundred KiB).
MAX_ANSWER_BYTES = 32 << 20


class AnswerError(OSError):
    """The answer broke off or broke the framing: the socket must not be reused."""


class Headers(Mapping[str, str]):
    """An answer's headers, looked up without regard to case (``rheaders["Request-Id"]``
    and ``"stripe-should-retry" in rheaders`` in the library); a repeated header's values
    are joined with ``", "`` as RFC 9110 allows."""

    __slots__ = ("_items",)

    def __init__(self, items: dict[str, str]) -> None:
        self._items = items  # lower-cased names

    def __getitem__(self, name: str) -> str:
        return self._items[name.lower()]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._items

    def get(self, name: str, default: str | None = None) -> str | None:  # type: ignore[override]
        return self._items.get(name.lower(), default)

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"Headers({self._items!r})"


class _Answer:
    """llhttp's callbacks for one answer (an interim ``1xx`` answer before it is skipped).
    Whatever follows the answer on the connection is not read into it: it only marks the
    connection as out of step."""

    __slots__ = ("body", "done", "extra", "headed", "headers", "interim", "keep", "parser", "size")

    def __init__(self) -> None:
        self.headers: dict[str, str] = {}
        self.body: list[bytes] = []
        self.done = self.headed = self.interim = self.extra = self.keep = False
        self.size = 0
        self.parser = httptools.HttpResponseParser(self)

    def on_message_begin(self) -> None:
        if self.done:
            self.extra = True

    def on_header(self, name: bytes, value: bytes) -> None:
        if self.done:
            return
        key = name.decode("latin-1").lower()
        text = value.decode("latin-1")
        found = self.headers.get(key)
        self.headers[key] = text if found is None else f"{found}, {text}"

    def on_headers_complete(self) -> None:
        if self.done:
            return
        # 1xx: "100 Continue", "103 Early Hints" (101, an upgrade, makes llhttp stop)
        self.interim = self.parser.get_status_code() < 200
        self.headed = not self.interim

    def on_body(self, body: bytes) -> None:
        if self.done:
            return
        self.size += len(body)
        if self.size > MAX_ANSWER_BYTES:
            raise AnswerError("the answer is larger than the client reads")
        self.body.append(body)

    def on_message_complete(self) -> None:
        if self.done:
            return
        if self.interim:  # the answer itself follows
            self.headers = {}
            self.interim = False
            return
        self.done = True
        # read now: llhttp forgets the answer's framing once it is complete
        self.keep = self.parser.should_keep_alive()

    def ends_at_close(self) -> bool:
        """An answer framed by the connection's end (neither a length nor chunks) whose
        headers were read: the server's close completes it."""
        return (
            self.headed
            and not self.done
            and "content-length" not in self.headers
            and "transfer-encoding" not in self.headers
        )


def read_answer(sock: socket.socket) -> tuple[int, bytes, Headers, bool]:
    """Status, body, headers, and whether the socket may serve another request. Raises
    ``AnswerError`` (an ``OSError``) when the server ends the connection early or sends
    what llhttp refuses, and the socket's own ``OSError`` (a timeout) as it comes."""
    answer = _Answer()
    parser = answer.parser
    closed = False
    while not answer.done:
        data = sock.recv(READ_SIZE)
        if not data:
            if answer.ends_at_close():
                closed = True
                break
            raise AnswerError("the server closed the connection before the answer was whole")
        try:
            parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            raise AnswerError("the server switched protocols") from None
        except httptools.HttpParserError as exc:
            if not answer.done:
                raise AnswerError(f"the answer broke HTTP/1.1 framing: {exc}") from exc
            answer.extra = True  # garbage after a whole answer: it stands, the socket goes
    reusable = answer.keep and not closed and not answer.extra
    body = answer.body[0] if len(answer.body) == 1 else b"".join(answer.body)
    return parser.get_status_code(), body, Headers(answer.headers), reusable
