"""Security headers for what the dashboard's pages do not render themselves: the API
reference (``/docs``), the OpenAPI document and the static files.

A plain ASGI wrapper (no extra task per request, ADR 0006's hot path untouched): one
dictionary look-up or prefix test per request, headers added only to these paths.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from stripemeter_server.api.ui.render import SECURITY_HEADERS

NOSNIFF = {"X-Content-Type-Options": "nosniff"}
# Swagger UI sets inline style attributes as it renders, so styles may be inline here (and
# only here); scripts come from this origin only (its start-up script is a static file).
DOCS_HEADERS = {
    **SECURITY_HEADERS,
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; "
    "style-src 'self' 'unsafe-inline'; script-src 'self'; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
}
DOCUMENT_HEADERS = {  # a JSON document: nothing to run, never framed
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    **NOSNIFF,
}
EXACT = {"/docs": DOCS_HEADERS, "/openapi.json": DOCUMENT_HEADERS}
PREFIXES = (("/ui/static/", NOSNIFF),)


def _encoded(headers: dict[str, str]) -> list[tuple[bytes, bytes]]:
    return [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]


class AssetHeadersMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._exact = {path: _encoded(h) for path, h in EXACT.items()}
        self._prefixes = [(prefix, _encoded(h)) for prefix, h in PREFIXES]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        extra = self._headers_for(scope.get("path", "")) if scope["type"] == "http" else None
        if extra is None:
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {k for k, _ in message.get("headers", [])}
                added = [(k, v) for k, v in extra if k not in present]
                message = {**message, "headers": [*message.get("headers", []), *added]}
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def _headers_for(self, path: str) -> list[tuple[bytes, bytes]] | None:
        found = self._exact.get(path)
        if found is not None:
            return found
        return next((h for prefix, h in self._prefixes if path.startswith(prefix)), None)
