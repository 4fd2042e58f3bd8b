"""The customer portal's routes: minting and settings for the tenant's keys
(``/v1/portal/...``), the read API for portal tokens (``/portal/v1/...``) and the
embeddable page (``/portal``, ``/portal/embed.js``)."""
