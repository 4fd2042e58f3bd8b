"""The pusher's sending lanes (``StripeCalls.in_lanes``): every item is sent once, every
result is recorded once, on the calling thread, and a failure stops the lanes before the
pass ends (no call of the pass still in flight afterwards)."""

from __future__ import annotations

import threading

import pytest

from stripemeter_server.service.stripe_sync.stripe_calls import CallLimits, StripeCalls


def _calls(concurrency: int) -> StripeCalls:
    return StripeCalls(CallLimits(1e9, 1e9, 1, 0.0, 0.0, concurrency))


@pytest.mark.parametrize("concurrency", [1, 3, 8])
def test_every_item_is_sent_and_recorded_once_on_the_calling_thread(concurrency: int) -> None:
    items = [[f"c{i}-a", f"c{i}-b"] for i in range(300)]
    sent: list[str] = []
    recorded: list[str] = []
    record_threads: set[int] = set()
    lock = threading.Lock()

    def send(group: list[str]) -> list[str]:
        with lock:
            sent.extend(group)
        return [f"ok:{x}" for x in group]

    def record(done: list[str]) -> None:
        record_threads.add(threading.get_ident())
        recorded.extend(done)

    _calls(concurrency).in_lanes(items, send, record, record_every=50)

    expected = [x for group in items for x in group]
    assert sorted(sent) == sorted(expected)
    assert sorted(recorded) == sorted(f"ok:{x}" for x in expected)
    assert record_threads == {threading.get_ident()}


def test_a_group_is_sent_in_order_by_one_lane() -> None:
    seen: dict[int, list[int]] = {}
    lock = threading.Lock()

    def send(group: list[int]) -> list[int]:
        for x in group:
            with lock:
                seen.setdefault(group[0], []).append(x)
        return group

    items = [list(range(start, start + 5)) for start in range(0, 200, 5)]
    _calls(4).in_lanes(items, send, lambda done: None, record_every=10)

    assert seen == {group[0]: group for group in items}


def test_a_failing_send_stops_the_lanes_and_is_raised_after_they_stop() -> None:
    started: list[int] = []
    in_flight = [0]
    lock = threading.Lock()
    after_raise: list[int] = []  # what was recorded

    def send(group: list[int]) -> list[int]:
        with lock:
            started.append(group[0])
            in_flight[0] += 1
        try:
            if group[0] == 3:
                raise RuntimeError("boom")
            return group
        finally:
            with lock:
                in_flight[0] -= 1

    def record(done: list[int]) -> None:
        after_raise.extend(done)

    with pytest.raises(RuntimeError, match="boom"):
        _calls(2).in_lanes([[i] for i in range(1_000)], send, record, record_every=1)

    assert in_flight[0] == 0  # nothing of the pass is still being sent
    assert 3 in started and 3 not in after_raise


def test_a_failing_record_is_raised_once_every_lane_has_stopped() -> None:
    in_flight = [0]
    attempts: list[int] = []
    lock = threading.Lock()

    def send(group: list[int]) -> list[int]:
        with lock:
            in_flight[0] += 1
        with lock:
            in_flight[0] -= 1
        return group

    def record(done: list[int]) -> None:
        attempts.append(len(done))
        raise OSError("store unavailable")

    with pytest.raises(OSError, match="store unavailable"):
        _calls(2).in_lanes([[i] for i in range(1_000)], send, record, record_every=1)

    assert in_flight[0] == 0
    assert len(attempts) == 1  # not recorded again after the store failed
