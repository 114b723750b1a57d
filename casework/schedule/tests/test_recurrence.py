"""Recurrence: RFC 5545 rules expanded in local time, bounded, across daylight-saving changes."""

from __future__ import annotations

import datetime
import time
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from casework.schedule.recurrence import (
    MAX_OCCURRENCES,
    ScheduleError,
    occurrences,
    rule_check,
    rule_count_after,
    rule_described,
    rule_from_choices,
    rule_moved,
)

LA = ZoneInfo("America/Los_Angeles")
D = datetime.date
DT = datetime.datetime


def expand(rule: str, first: DT, through: D, **kwargs) -> list[DT]:
    return occurrences(
        rule=rule,
        first_start_local=first,
        tz=kwargs.pop("tz", LA),
        after=kwargs.pop("after", first.date() - datetime.timedelta(days=1)),
        through=through,
        holidays=kwargs.pop("holidays", set()),
        skip_holidays=kwargs.pop("skip_holidays", True),
        limit=kwargs.pop("limit", MAX_OCCURRENCES),
    )


@pytest.mark.parametrize(
    ("choices", "rule"),
    [
        ({"frequency": "weekly", "weekdays": ["tu"]}, "FREQ=WEEKLY;BYDAY=TU"),
        ({"frequency": "weekly", "weekdays": ["FR", "MO"]}, "FREQ=WEEKLY;BYDAY=MO,FR"),
        ({"frequency": "weekly", "weekdays": [], "interval": 2}, "FREQ=WEEKLY;INTERVAL=2"),
        ({"frequency": "weekdays", "weekdays": []}, "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"),
        ({"frequency": "daily", "weekdays": [], "count": 10}, "FREQ=DAILY;COUNT=10"),
        (
            {"frequency": "monthly", "weekdays": [], "until": D(2027, 6, 30)},
            "FREQ=MONTHLY;UNTIL=20270630T235959",
        ),
    ],
)
def test_the_repeat_form_builds_rfc_5545_rules(choices, rule):
    choices = {"interval": 1, "until": None, "count": None, **choices}
    assert rule_from_choices(**choices) == rule


@pytest.mark.parametrize(
    ("choices", "field"),
    [
        ({"frequency": "hourly"}, "frequency"),
        ({"interval": 0}, "interval"),
        ({"interval": 53}, "interval"),
        ({"until": D(2027, 1, 1), "count": 5}, "count"),
        ({"count": 0}, "count"),
        ({"count": MAX_OCCURRENCES + 1}, "count"),
        ({"weekdays": ["XX"]}, "weekdays"),
    ],
)
def test_the_repeat_form_refuses_nonsense_with_the_field(choices, field):
    choices = {
        "frequency": "weekly",
        "weekdays": ["TU"],
        "interval": 1,
        "until": None,
        "count": None,
        **choices,
    }
    with pytest.raises(ScheduleError) as error:
        rule_from_choices(**choices)
    assert error.value.field == field


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ("", "Say how"),
        ("not a rule", "not valid"),
        ("FREQ=WEEKLY;BYDAY=XX", "not valid"),
        ("FREQ=FORTNIGHTLY", "not valid"),
        ("FREQ=HOURLY", "at most once a day"),
        ("FREQ=MINUTELY;INTERVAL=30", "at most once a day"),
        ("FREQ=SECONDLY", "at most once a day"),
        ("FREQ=DAILY;BYHOUR=9,13", "time comes from the first appointment"),
        ("FREQ=DAILY\nRDATE:20270101T100000", "time comes from the first appointment"),
        ("FREQ=WEEKLY;COUNT=3;UNTIL=20270101T000000", "not both"),
        ("FREQ=WEEKLY;BYDAY=" + ",".join(["TU"] * 100), "at most 300"),
    ],
)
def test_rule_check_refuses_bad_rules(rule, message):
    with pytest.raises(ScheduleError, match=message) as error:
        rule_check(rule)
    assert error.value.field == "rule"


@pytest.mark.parametrize(
    "rule",
    [
        "FREQ=WEEKLY;BYDAY=TU",
        "RRULE:FREQ=WEEKLY;BYDAY=TU",
        "freq=daily;interval=2",
        "FREQ=MONTHLY;BYDAY=1TU",
        "FREQ=WEEKLY;UNTIL=20270101T080000Z",
        "FREQ=YEARLY",
    ],
)
def test_rule_check_accepts_daily_or_slower_rules(rule):
    rule_check(rule)


def test_a_weekly_visit_stays_at_ten_local_across_both_daylight_saving_changes():
    # Tuesdays 10:00 from October 2026 (PDT) past 1 Nov 2026 (PST) and 14 Mar 2027 (PDT again).
    starts = expand("FREQ=WEEKLY;BYDAY=TU", DT(2026, 10, 20, 10), D(2027, 3, 30))
    assert starts[0] == datetime.datetime(2026, 10, 20, 10, tzinfo=LA)
    assert all(s.weekday() == 1 and (s.hour, s.minute) == (10, 0) for s in starts)
    offsets = {s.date(): s.utcoffset() for s in starts}
    assert offsets[D(2026, 10, 27)] == datetime.timedelta(hours=-7)
    assert offsets[D(2026, 11, 3)] == datetime.timedelta(hours=-8)
    assert offsets[D(2027, 3, 9)] == datetime.timedelta(hours=-8)
    assert offsets[D(2027, 3, 16)] == datetime.timedelta(hours=-7)
    utc_hours = {s.astimezone(datetime.UTC).hour for s in starts}
    assert utc_hours == {17, 18}  # the same local time is a different UTC time


def test_a_time_in_the_spring_forward_gap_moves_forward_by_the_gap():
    starts = expand("FREQ=DAILY", DT(2027, 3, 13, 2, 30), D(2027, 3, 15))
    assert [(s.day, s.hour, s.minute) for s in starts] == [(13, 2, 30), (14, 3, 30), (15, 2, 30)]
    gap_day = starts[1].astimezone(datetime.UTC)
    assert gap_day == datetime.datetime(2027, 3, 14, 10, 30, tzinfo=datetime.UTC)


def test_a_time_that_happens_twice_in_the_fall_is_the_first_one():
    starts = expand("FREQ=DAILY;COUNT=2", DT(2026, 10, 31, 1, 30), D(2026, 11, 30))
    second = starts[1]
    assert (second.day, second.hour, second.minute) == (1, 1, 30)
    assert second.utcoffset() == datetime.timedelta(hours=-7)  # still daylight time


def test_a_rule_with_no_end_stops_at_through_and_at_the_limit():
    starts = expand("FREQ=DAILY", DT(2026, 12, 1, 9), D(2027, 5, 31))
    assert len(starts) == 182
    assert starts[-1].date() == D(2027, 5, 31)
    assert len(expand("FREQ=DAILY", DT(2026, 12, 1, 9), D(2030, 1, 1), limit=25)) == 25


def test_a_rare_rule_is_found_quickly_and_bounded_by_through():
    began = time.monotonic()
    starts = expand("FREQ=DAILY;BYMONTH=2;BYMONTHDAY=29", DT(2026, 12, 1, 9), D(2029, 6, 1))
    assert [s.date() for s in starts] == [D(2026, 12, 1), D(2028, 2, 29)]
    assert time.monotonic() - began < 2


def test_the_first_appointment_counts_even_off_the_rule_and_count_counts_from_it():
    # Booked on a Monday, repeating on Tuesdays, 3 times: Monday, then two Tuesdays.
    starts = expand("FREQ=WEEKLY;BYDAY=TU;COUNT=3", DT(2026, 12, 7, 10), D(2027, 3, 1))
    assert [s.date() for s in starts] == [D(2026, 12, 7), D(2026, 12, 8), D(2026, 12, 15)]
    # Expanding only a later window keeps counting from the first appointment.
    later = expand("FREQ=WEEKLY;COUNT=5", DT(2026, 12, 1, 10), D(2027, 3, 1), after=D(2026, 12, 20))
    assert [s.date() for s in later] == [D(2026, 12, 22), D(2026, 12, 29)]


def test_after_is_exclusive_and_through_inclusive():
    starts = expand("FREQ=DAILY", DT(2026, 12, 1, 10), D(2026, 12, 5), after=D(2026, 12, 2))
    assert [s.day for s in starts] == [3, 4, 5]
    assert expand("FREQ=DAILY", DT(2026, 12, 1, 10), D(2026, 11, 30)) == []


def test_holidays_are_skipped_but_not_the_first_appointment():
    holidays = {D(2026, 12, 1), D(2026, 12, 8)}
    starts = expand("FREQ=WEEKLY", DT(2026, 12, 1, 10), D(2026, 12, 22), holidays=holidays)
    assert [s.day for s in starts] == [1, 15, 22]
    kept = expand(
        "FREQ=WEEKLY", DT(2026, 12, 1, 10), D(2026, 12, 22), holidays=holidays, skip_holidays=False
    )
    assert [s.day for s in kept] == [1, 8, 15, 22]


def test_until_in_utc_is_read_in_local_time_and_a_date_until_includes_the_day():
    # 20261216T075959Z is 15 Dec 23:59:59 in Los Angeles.
    utc = expand("FREQ=DAILY;UNTIL=20261216T075959Z", DT(2026, 12, 14, 10), D(2027, 1, 1))
    assert [s.day for s in utc] == [14, 15]
    dated = expand("FREQ=DAILY;UNTIL=20261215", DT(2026, 12, 14, 10), D(2027, 1, 1))
    assert [s.day for s in dated] == [14, 15]


def test_a_naive_first_start_is_required():
    with pytest.raises(ValueError, match="naive"):
        expand("FREQ=DAILY", DT(2026, 12, 1, 10, tzinfo=LA), D(2027, 1, 1))


def test_moving_an_occurrence_to_another_weekday_moves_the_rule():
    tuesday, wednesday = D(2026, 12, 8), D(2026, 12, 9)
    assert rule_moved(rule="FREQ=WEEKLY;BYDAY=TU", old_day=tuesday, new_day=wednesday) == (
        "FREQ=WEEKLY;BYDAY=WE"
    )
    assert rule_moved(rule="FREQ=MONTHLY;BYDAY=2TU", old_day=tuesday, new_day=wednesday) == (
        "FREQ=MONTHLY;BYDAY=2WE"
    )
    assert rule_moved(rule="FREQ=WEEKLY;BYDAY=SU,TU", old_day=tuesday, new_day=D(2026, 12, 7)) == (
        "FREQ=WEEKLY;BYDAY=SA,MO"
    )
    assert rule_moved(rule="FREQ=MONTHLY;BYMONTHDAY=8", old_day=tuesday, new_day=wednesday) == (
        "FREQ=MONTHLY;BYMONTHDAY=9"
    )
    assert rule_moved(rule="FREQ=DAILY", old_day=tuesday, new_day=wednesday) == "FREQ=DAILY"


def test_what_is_left_of_a_counted_rule():
    left = rule_count_after(
        rule="FREQ=WEEKLY;COUNT=10",
        first_start_local=DT(2026, 12, 1, 10),
        before_local=DT(2026, 12, 22, 10),
    )
    assert left == "FREQ=WEEKLY;COUNT=7"
    assert (
        rule_count_after(
            rule="FREQ=WEEKLY",
            first_start_local=DT(2026, 12, 1, 10),
            before_local=DT(2026, 12, 22, 10),
        )
        == "FREQ=WEEKLY"
    )


@settings(max_examples=60, deadline=None)
@given(
    freq=st.sampled_from(["DAILY", "WEEKLY", "MONTHLY", "YEARLY"]),
    interval=st.integers(1, 5),
    first_day=st.dates(D(2026, 1, 1), D(2028, 12, 31)),
    hour=st.integers(0, 23),
    minute=st.sampled_from([0, 15, 30, 45]),
    span=st.integers(0, 800),
    limit=st.integers(1, MAX_OCCURRENCES),
)
def test_expansion_is_bounded_in_count_and_dates(
    freq, interval, first_day, hour, minute, span, limit
):
    first = DT.combine(first_day, datetime.time(hour, minute))
    through = first_day + datetime.timedelta(days=span)
    starts = expand(f"FREQ={freq};INTERVAL={interval}", first, through, limit=limit)
    assert 1 <= len(starts) <= limit
    assert all(first_day <= s.date() <= through for s in starts)
    assert starts == sorted(starts)
    assert all(s.tzinfo is not None for s in starts)


@pytest.mark.parametrize(
    "rule",
    [
        "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30",
        "FREQ=WEEKLY;BYMONTH=4,6;BYMONTHDAY=31",
        "FREQ=DAILY;INTERVAL=7;BYDAY=TU",
        "FREQ=MONTHLY;INTERVAL=12;BYMONTH=3",
        "FREQ=WEEKLY;BYSETPOS=4;BYDAY=MO",
        "FREQ=MONTHLY;BYSETPOS=9;BYDAY=MO",
        "FREQ=YEARLY;BYWEEKNO=60",
        "FREQ=YEARLY;BYYEARDAY=400",
    ],
)
def test_rules_that_never_happen_are_refused_before_any_search(rule):
    with pytest.raises(ScheduleError) as error:
        rule_check(rule)
    assert error.value.field == "rule"


def test_possible_but_rare_rules_are_accepted():
    for rule in (
        "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29",
        "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1",
        "FREQ=MONTHLY;BYMONTHDAY=-1",
        "FREQ=MONTHLY;BYMONTHDAY=31",
    ):
        rule_check(rule)


@pytest.mark.parametrize(
    ("rule", "words"),
    [
        ("FREQ=WEEKLY", "every week on Tuesday"),
        ("FREQ=WEEKLY;BYDAY=TU;INTERVAL=2", "every 2 weeks on Tuesday"),
        ("FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR", "every weekday"),
        ("FREQ=MONTHLY;COUNT=6", "every month, 6 times"),
        ("FREQ=DAILY;UNTIL=20270131T235959", "every day, until 01/31/2027"),
    ],
)
def test_a_rule_reads_in_plain_words(rule: str, words: str) -> None:
    assert rule_described(rule, datetime.date(2026, 12, 1)) == words
