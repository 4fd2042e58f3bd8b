"""A tenant's portal settings: the origins allowed to call the read API (CORS), the pages
allowed to frame the portal (``frame-ancestors``) and the theme (a few CSS variables and a
logo URL). Every value is bounded and checked here, because it ends up in a response header
or in the page's stylesheet; the edge reads the body's keys and hands each value to its
checker here."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from stripemeter_server.domain.errors import ValidationError
from stripemeter_server.domain.timestamps import to_micros
from stripemeter_server.service.operations import audit
from stripemeter_server.service.portal.ports import PortalSettingsRecord
from stripemeter_server.service.portal.ports import PortalUnitOfWork as UnitOfWork

MAX_ORIGINS = 50
MAX_URL = 2048
CSS_VARIABLES = frozenset(
    {
        "--portal-accent",
        "--portal-background",
        "--portal-surface",
        "--portal-text",
        "--portal-muted",
        "--portal-font",
        "--portal-radius",
    }
)
# A CSS value that cannot end the declaration, the rule or the <style> element.
_CSS_VALUE = re.compile(r"^[A-Za-z0-9#%., ()'\"-]{1,64}$")
_ORIGIN = re.compile(r"^https?://[a-z0-9.-]{1,253}(:[0-9]{1,5})?$")


@dataclass(frozen=True, slots=True)
class PortalSettings:
    allowed_origins: tuple[str, ...] = ()
    frame_ancestors: tuple[str, ...] = ()
    css_variables: dict[str, str] = field(default_factory=dict)
    logo_url: str | None = None


def invalid(message: str, name: str) -> ValidationError:
    """The refusal of a settings body (the edge refuses unknown keys with it too)."""
    return ValidationError(message, code="invalid_portal_settings", field=name)


def origins(raw: object, name: str) -> tuple[str, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list) or len(raw) > MAX_ORIGINS:
        raise invalid(f"{name} must be a list of at most {MAX_ORIGINS} origins", name)
    found = []
    for item in raw:
        origin = item.lower().rstrip("/") if isinstance(item, str) else ""
        if not _ORIGIN.match(origin):
            raise invalid(
                f"{name} holds {str(item)[:80]!r}: an origin is 'https://host[:port]' with no path",
                name,
            )
        found.append(origin)
    return tuple(sorted(set(found)))


def css_variables(raw: object) -> dict[str, str]:
    if raw is None:
        return {}
    name = "theme.cssVariables"
    if not isinstance(raw, dict) or len(raw) > len(CSS_VARIABLES):
        raise invalid(f"{name} must be an object of " + ", ".join(sorted(CSS_VARIABLES)), name)
    for key, value in raw.items():
        if key not in CSS_VARIABLES:
            raise invalid(f"{name}: unknown variable {str(key)[:80]!r}", name)
        if not isinstance(value, str) or not _CSS_VALUE.match(value):
            raise invalid(
                f"{name}.{key} must be 1 to 64 of letters, digits, spaces and # % . , ( ) ' \" -",
                name,
            )
    return dict(sorted(raw.items()))


def logo_url(raw: object) -> str | None:
    if raw is None:
        return None
    name = "theme.logoUrl"
    if not isinstance(raw, str) or len(raw) > MAX_URL or any(c in raw for c in "\"'<> \\"):
        raise invalid(f"{name} must be an http(s) URL of at most {MAX_URL} characters", name)
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise invalid(f"{name} must be an http(s) URL", name)
    return raw


def settings_json(found: PortalSettings) -> dict[str, Any]:
    """The settings as the audit log stores them (the API renders its own, equal, shape in
    ``api/schemas/portal.py``)."""
    return {
        "allowedOrigins": list(found.allowed_origins),
        "frameAncestors": list(found.frame_ancestors),
        "theme": {"cssVariables": found.css_variables, "logoUrl": found.logo_url},
    }


def _from_record(record: PortalSettingsRecord | None) -> PortalSettings:
    if record is None:
        return PortalSettings()
    theme = json.loads(record.theme)
    return PortalSettings(
        record.allowed_origins,
        record.frame_ancestors,
        theme.get("cssVariables") or {},
        theme.get("logoUrl"),
    )


def get_settings(uow: UnitOfWork) -> PortalSettings:
    """The unit of work's tenant's settings (nothing allowed until they are set)."""
    return _from_record(uow.portal.settings())


def put_settings(uow: UnitOfWork, wanted: PortalSettings, now: datetime) -> PortalSettings:
    before = get_settings(uow)
    theme = json.dumps(
        {"cssVariables": wanted.css_variables, "logoUrl": wanted.logo_url},
        sort_keys=True,
        separators=(",", ":"),
    )
    uow.portal.put_settings(
        PortalSettingsRecord(wanted.allowed_origins, wanted.frame_ancestors, theme, to_micros(now))
    )
    audit.record(
        uow,
        now,
        "portal_settings.update",
        "portal_settings",
        uow.tenant_id,
        before=settings_json(before),
        after=settings_json(wanted),
    )
    return wanted


def origin_allowed_anywhere(uow: UnitOfWork, origin: str) -> bool:
    """Whether any tenant allows ``origin``: the answer to a CORS preflight, which carries
    no token. The actual request is answered for the token's own tenant's origins only."""
    return len(origin) <= 300 and uow.portal.origin_allowed_anywhere(origin.lower())
