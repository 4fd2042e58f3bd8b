"""Reading a meter error report is bounded: any shape becomes a report, never a crash, the
count it gives never undercounts the events it names, and what it gives fits its columns."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from stripemeter_server.stripe.meter_errors import report_of

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=25,
)
SAMPLE = st.fixed_dictionaries(
    {"error_message": JSON, "request": st.fixed_dictionaries({"identifier": JSON})}
)
EVENT = st.fixed_dictionaries(
    {
        "id": JSON,
        "type": JSON,
        "created": JSON,
        "related_object": JSON,
        "data": st.fixed_dictionaries(
            {
                "reason": st.fixed_dictionaries(
                    {
                        "error_count": JSON,
                        "error_types": st.lists(
                            st.fixed_dictionaries(
                                {"code": JSON, "sample_errors": st.lists(SAMPLE | JSON, max_size=4)}
                            )
                            | JSON,
                            max_size=3,
                        ),
                    }
                )
            }
        ),
    }
)


@given(event=EVENT | st.dictionaries(st.text(max_size=8), JSON, max_size=5))
def test_any_event_shape_reads_as_a_report_counting_every_named_error(
    event: dict[str, Any],
) -> None:
    report = report_of(event)
    assert report.error_count >= max(len(report.samples), 1)


@given(event=EVENT)
def test_what_a_report_gives_fits_the_columns_it_is_stored_in(event: dict[str, Any]) -> None:
    report = report_of(event)
    assert (
        len(report.event_id) <= 255,
        len(report.event_type) <= 255,
        all(len(s.code) <= 64 and len(s.identifier or "") <= 255 for s in report.samples),
    ) == (True, True, True)


def test_a_report_names_the_refused_identifier() -> None:
    report = report_of(
        {
            "id": "evt_1",
            "type": "v1.billing.meter.error_report_triggered",
            "created": "2026-01-15T00:00:00.000Z",
            "related_object": {"id": "mtr_1"},
            "data": {
                "reason": {
                    "error_count": 1,
                    "error_types": [
                        {
                            "code": "meter_event_customer_not_found",
                            "sample_errors": [
                                {
                                    "error_message": "No such customer: 'cus_x'",
                                    "request": {"identifier": "smp_1"},
                                }
                            ],
                        }
                    ],
                }
            },
        }
    )
    assert [(s.code, s.identifier) for s in report.samples] == [
        ("meter_event_customer_not_found", "smp_1")
    ]
