"""``serve`` freezes what start-up built before it serves (ADR 0964)."""

from __future__ import annotations

import gc
import weakref

from stripemeter_server.cli.serve_cmds import settle_startup_objects


def test_the_startup_objects_are_frozen_and_newer_garbage_is_still_collected() -> None:
    built_at_start: list[list[int]] = [[n] for n in range(10)]
    try:
        settle_startup_objects()
        frozen = gc.get_freeze_count()
        walked = {id(o) for o in gc.get_objects()}  # what a collection would walk
        assert frozen >= len(built_at_start)
        assert not walked & {id(built_at_start), *map(id, built_at_start)}
        cycle = _Node()
        cycle.peer = cycle  # a cycle made after the freeze: still the collector's to free
        gone = weakref.ref(cycle)
        del cycle
        gc.collect()
        assert gone() is None
        # a collection freezes nothing more (frozen objects freed by their reference counts,
        # by any thread, leave the count: it may only fall)
        assert gc.get_freeze_count() <= frozen
    finally:
        gc.unfreeze()


class _Node:
    peer: object = None
