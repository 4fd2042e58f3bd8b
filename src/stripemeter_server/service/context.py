"""What every use case needs: the store, a clock and the limits in force."""

from __future__ import annotations

from dataclasses import dataclass, field

from stripemeter_server.domain.events import EventLimits
from stripemeter_server.service.clock import Clock
from stripemeter_server.storage.unit_of_work import Store


@dataclass(frozen=True)
class ServiceContext:
    store: Store
    clock: Clock
    limits: EventLimits = field(default_factory=EventLimits)
