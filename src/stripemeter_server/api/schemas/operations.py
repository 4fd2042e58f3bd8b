"""API keys on the wire."""

from __future__ import annotations

from stripemeter_server.api.wire import UNSET, Body, Unset, request_body, shape_of


class KeyRequest(Body):
    scopes: list[str] | Unset = UNSET
    label: str | Unset | None = UNSET
    tenant_id: str | Unset = UNSET


class RotateRequest(Body):
    grace_seconds: int | Unset | None = UNSET


ISSUE_KEY = request_body(KeyRequest, examples=({"scopes": ["ingest", "read"], "label": "backend"},))
ROTATE_KEY = request_body(RotateRequest, examples=({"graceSeconds": 300},), required=False)
ISSUE_KEY_SHAPE = shape_of(KeyRequest)
ROTATE_KEY_SHAPE = shape_of(RotateRequest)
