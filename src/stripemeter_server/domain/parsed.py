"""A value parsed at the edge, or the refusal its parser raised, held for the use case.

Commands are parsed before the transaction starts, but some refusals must keep coming
after checks only the store can make (an unknown metric is a 404 before a malformed price
is a 422), so every problem body stays what it was. ``Parsed.get`` gives the value or
raises the refusal exactly where the use case used to parse."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from stripemeter_server.domain.errors import ValidationError

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Parsed(Generic[T]):
    value: T | None
    refusal: ValidationError | None = None

    @classmethod
    def of(cls, parse: Callable[[], T]) -> Parsed[T]:
        try:
            return cls(parse())
        except ValidationError as refused:
            return cls(None, refused)

    def get(self) -> T:
        if self.refusal is not None:
            raise self.refusal
        assert self.value is not None
        return self.value
