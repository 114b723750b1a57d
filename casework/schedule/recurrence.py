"""Recurring appointments: RFC 5545 rules expanded in the agency's local wall-clock time.

A weekly 10:00 visit is 10:00 in Seattle in January and in July, so the rule is expanded on
naive local times and the zone is attached afterwards (never the other way round, which would
move the visit by an hour at each daylight-saving change). Attaching uses `fold=0`:

- a local time that does not exist (the spring-forward gap, 02:30 on the second Sunday of
  March) is read with the offset before the change and so moves forward by the gap (03:30);
- a local time that happens twice (01:30 on the first Sunday of November) is the first one.

The first appointment (DTSTART) is always the first occurrence, as RFC 5545 counts it, even
when the rule would not have produced it, and it is never skipped for a holiday: someone chose
that day on purpose. Expansion is always bounded: never past `through`, never more than `limit`.
"""

from __future__ import annotations

import datetime
import itertools
import re
from zoneinfo import ZoneInfo

from dateutil.rrule import (  # type: ignore[import-untyped]
    HOURLY,
    MINUTELY,
    SECONDLY,
    rrule,
    rrulestr,
)

# Occurrences exist up to this many days ahead; a nightly task moves the horizon on.
HORIZON_DAYS = 183
# At most this many appointments are made by one generation of a series.
MAX_OCCURRENCES = 400
RULE_LIMIT = 300  # characters, as Series.rule stores them
LONGEST_INTERVAL = 52
WEEKDAY_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
FREQUENCIES = ("daily", "weekdays", "weekly", "monthly")
# Rule parts that would set the time of day or add dates/times the form cannot show.
REFUSED_PARTS = ("BYHOUR", "BYMINUTE", "BYSECOND", "DTSTART", "RDATE", "EXDATE", "EXRULE")
# The parts a rule may have. Others (BYYEARDAY, BYWEEKNO, BYEASTER…) are refused: nobody needs
# them for visits, and they make rules that never happen easy to write.
ALLOWED_PARTS = frozenset(
    {"FREQ", "INTERVAL", "UNTIL", "COUNT", "WKST", "BYDAY", "BYMONTHDAY", "BYMONTH", "BYSETPOS"}
)
DAYS_IN_MONTH = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
_UNTIL = re.compile(r"UNTIL=(\d{8})(T(\d{6})(Z?))?", re.IGNORECASE)
_BYDAY = re.compile(r"BYDAY=([^;]*)", re.IGNORECASE)
_BYMONTHDAY = re.compile(r"BYMONTHDAY=(-?\d{1,2})(?=;|$)", re.IGNORECASE)
_COUNT = re.compile(r"COUNT=(\d+)", re.IGNORECASE)


class ScheduleError(Exception):
    """A schedule change that cannot be made; `field` names the form field it belongs to.

    Defined here, the lowest layer, and re-exported by `casework.schedule.services`.
    """

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def _clean_rule(rule: str) -> str:
    rule = rule.strip()
    if rule.upper().startswith("RRULE:"):
        rule = rule[len("RRULE:") :]
    return rule.upper()


def rule_from_choices(
    *,
    frequency: str,
    weekdays: list[str],
    interval: int = 1,
    until: datetime.date | None = None,
    count: int | None = None,
) -> str:
    """The RRULE for the repeat form: daily, every weekday, weekly on some days, or monthly."""
    if frequency not in FREQUENCIES:
        raise ScheduleError("Choose how often it repeats.", field="frequency")
    if not 1 <= interval <= LONGEST_INTERVAL:
        raise ScheduleError(
            f"Repeat every 1 to {LONGEST_INTERVAL} days, weeks or months.", field="interval"
        )
    if until is not None and count is not None:
        raise ScheduleError("Give an end date or a number of times, not both.", field="count")
    if count is not None and not 1 <= count <= MAX_OCCURRENCES:
        raise ScheduleError(f"Repeat 1 to {MAX_OCCURRENCES} times.", field="count")
    days = [day.upper() for day in weekdays]
    unknown = [day for day in days if day not in WEEKDAY_CODES]
    if unknown:
        raise ScheduleError("Choose days of the week from Monday to Sunday.", field="weekdays")
    ordered = [code for code in WEEKDAY_CODES if code in days]
    parts = {
        "daily": ["FREQ=DAILY"],
        "weekdays": ["FREQ=WEEKLY", "BYDAY=MO,TU,WE,TH,FR"],
        "weekly": ["FREQ=WEEKLY"] + ([f"BYDAY={','.join(ordered)}"] if ordered else []),
        "monthly": ["FREQ=MONTHLY"],
    }[frequency]
    if interval != 1:
        parts.append(f"INTERVAL={interval}")
    if until is not None:
        # A floating local time, as RFC 5545 asks when DTSTART is a local time: the whole day.
        parts.append(f"UNTIL={until:%Y%m%d}T235959")
    if count is not None:
        parts.append(f"COUNT={count}")
    rule = ";".join(parts)
    rule_check(rule)
    return rule


def _parse(rule: str, dtstart: datetime.datetime, tz: ZoneInfo | None = None) -> rrule:
    """The dateutil rule on naive local times; a UTC UNTIL (…Z) is turned into local time."""
    text = _clean_rule(rule)
    match = _UNTIL.search(text)
    if match and match.group(4):
        until_utc = datetime.datetime.strptime(
            match.group(1) + match.group(3) + "+0000", "%Y%m%d%H%M%S%z"
        )
        local = until_utc.astimezone(tz or datetime.UTC).replace(tzinfo=None)
        text = text[: match.start()] + f"UNTIL={local:%Y%m%dT%H%M%S}" + text[match.end() :]
    elif match and not match.group(2):
        # A date-only UNTIL includes that whole local day.
        text = text[: match.start()] + f"UNTIL={match.group(1)}T235959" + text[match.end() :]
    parsed = rrulestr(text, dtstart=dtstart)
    if not isinstance(parsed, rrule):
        raise ValueError("not a single rule")
    return parsed


def rule_check(rule: str) -> None:
    """Refuse a rule that does not parse, repeats more than daily, or has UNTIL and COUNT."""
    text = _clean_rule(rule)
    if not text:
        raise ScheduleError("Say how the appointment repeats.", field="rule")
    if len(text) > RULE_LIMIT:
        raise ScheduleError(
            f"The repeat rule is {len(text)} characters; at most {RULE_LIMIT}.", field="rule"
        )
    if "\n" in text or "\r" in text or any(part in text for part in REFUSED_PARTS):
        raise ScheduleError(
            "The repeat rule can only say which days it repeats on; the time comes from the "
            "first appointment.",
            field="rule",
        )
    if "UNTIL=" in text and "COUNT=" in text:
        raise ScheduleError(
            "A repeat rule ends on a date (UNTIL) or after a number of times (COUNT), not both.",
            field="rule",
        )
    try:
        parsed = _parse(text, datetime.datetime(2026, 1, 5, 10, 0))  # noqa: DTZ001 (local time)
    except (ValueError, TypeError, KeyError, IndexError, AttributeError):
        raise ScheduleError(
            "The repeat rule is not valid RFC 5545 (e.g. FREQ=WEEKLY;BYDAY=TU).", field="rule"
        ) from None
    if parsed._freq in (SECONDLY, MINUTELY, HOURLY):
        raise ScheduleError("An appointment can repeat at most once a day.", field="rule")
    _check_can_happen(text)


def _parts(text: str) -> dict[str, str]:
    return dict(part.partition("=")[::2] for part in text.split(";") if part)


def _numbers(value: str) -> list[int]:
    return [int(item) for item in value.split(",") if item.strip().lstrip("+-").isdigit()]


def _check_can_happen(text: str) -> None:
    """Refuse rules that never produce a date: dateutil would search until the year 9999.

    (A daily rule for 30 February takes seconds of CPU to come back empty.) With the parts
    allowed, a rule never happens only through these combinations, so they are refused.
    """
    parts = _parts(text)
    never = ScheduleError("This repeat rule never produces a date; check the days.", field="rule")
    unknown = set(parts) - ALLOWED_PARTS
    if unknown:
        raise ScheduleError(
            f"The repeat rule cannot use {', '.join(sorted(unknown))}; say which days it "
            "repeats on with BYDAY, BYMONTHDAY or BYMONTH.",
            field="rule",
        )
    freq, interval = parts.get("FREQ", ""), int(parts.get("INTERVAL", "1") or 1)
    months = _numbers(parts.get("BYMONTH", "")) or list(range(1, 13))
    days = [day for day in _numbers(parts.get("BYMONTHDAY", "")) if day > 0]
    if (
        "BYMONTHDAY" in parts
        and len(days) == len(_numbers(parts["BYMONTHDAY"]))
        and not any(day <= DAYS_IN_MONTH[month - 1] for month in months for day in days)
    ):
        raise never
    if freq == "DAILY" and "BYDAY" in parts and interval % 7 == 0:
        raise never  # every 7th day is always the same weekday
    if freq == "MONTHLY" and "BYMONTH" in parts and interval > 1:
        raise ScheduleError(
            "A rule every few months cannot also pick the months; choose one.", field="rule"
        )
    if "BYSETPOS" in parts:
        positions = _numbers(parts["BYSETPOS"])
        plain_days = all(item.isalpha() for item in parts.get("BYDAY", "").split(","))
        if (
            freq not in ("MONTHLY", "YEARLY")
            or "BYDAY" not in parts
            or "BYMONTHDAY" in parts
            or not plain_days
            or not positions
            or any(not 1 <= abs(position) <= 4 for position in positions)
        ):
            raise ScheduleError(
                "BYSETPOS is only for 'the first to fourth, or last, weekday of the month'.",
                field="rule",
            )


def local_naive(moment: datetime.datetime, tz: ZoneInfo) -> datetime.datetime:
    """The wall-clock time at `moment` in `tz`, without a zone."""
    return moment.astimezone(tz).replace(tzinfo=None)


def aware(local: datetime.datetime, tz: ZoneInfo) -> datetime.datetime:
    """Attach the zone to a wall-clock time; a time in the spring-forward gap moves forward.

    `fold=0` reads a nonexistent time with the offset before the change, so converting through
    UTC lands after the gap by the length of the gap; an ambiguous time is its first instance.
    """
    return local.replace(tzinfo=tz, fold=0).astimezone(datetime.UTC).astimezone(tz)


def occurrences(
    *,
    rule: str,
    first_start_local: datetime.datetime,
    tz: ZoneInfo,
    after: datetime.date,
    through: datetime.date,
    holidays: set[datetime.date],
    skip_holidays: bool,
    limit: int = MAX_OCCURRENCES,
) -> list[datetime.datetime]:
    """Occurrence starts on local dates strictly after `after` and on or before `through`.

    Aware datetimes in `tz`, at most `limit` of them. `first_start_local` is the series' first
    start as a naive local wall-clock time (RFC 5545 DTSTART); COUNT counts from it.
    """
    if first_start_local.tzinfo is not None:
        raise ValueError("first_start_local must be a naive local time")
    if limit <= 0 or through <= after:
        return []
    rule_check(rule)  # cheap, and keeps rules that never happen from searching to year 9999
    parsed = _parse(rule, first_start_local, tz)
    count = parsed._count
    end_of_through = datetime.datetime.combine(through, datetime.time.max)
    # Bound the expansion by `through` (a rule with COUNT is bounded by taking its first COUNT
    # instances of the same rule without COUNT), so no rule can run away.
    until = parsed._until
    bounded = parsed.replace(
        count=None, until=end_of_through if until is None else min(until, end_of_through)
    )
    starts: list[datetime.datetime] = []
    seen = 0
    for local in itertools.chain([first_start_local], bounded):
        if local == first_start_local and seen:
            continue  # the rule itself produced DTSTART; it was counted already
        seen += 1
        if count is not None and seen > count:
            break
        day = local.date()
        if day <= after:
            continue
        if day > through:
            break
        if skip_holidays and day in holidays and local != first_start_local:
            continue
        starts.append(aware(local, tz))
        if len(starts) >= limit:
            break
    return starts


def rule_count_after(
    *, rule: str, first_start_local: datetime.datetime, before_local: datetime.datetime
) -> str:
    """The rule for what is left of a series from `before_local` on (COUNT reduced).

    Used when "this and following" starts a new series: a rule that ran COUNT=10 times and
    has had 4 keeps 6. A rule without COUNT is returned unchanged.
    """
    text = _clean_rule(rule)
    match = _COUNT.search(text)
    if match is None:
        return text
    total = int(match.group(1))
    parsed = _parse(text, first_start_local)
    earlier = parsed.replace(count=None, until=before_local - datetime.timedelta(seconds=1))
    used = len({first_start_local, *[moment for moment in earlier]})
    left = max(total - used, 1)
    return text[: match.start()] + f"COUNT={left}" + text[match.end() :]


def rule_moved(*, rule: str, old_day: datetime.date, new_day: datetime.date) -> str:
    """The rule after its occurrence moved from `old_day` to `new_day` (this and following).

    Weekdays (BYDAY, with or without an ordinal such as 1TU) shift by the same number of
    days, and a single BYMONTHDAY becomes the new day of the month, so "Tuesdays, moved to
    Wednesday" becomes "Wednesdays".
    """
    text = _clean_rule(rule)
    shift = (new_day.weekday() - old_day.weekday()) % 7
    byday = _BYDAY.search(text)
    if shift and byday is not None:
        moved = []
        for item in byday.group(1).split(","):
            ordinal, code = item[:-2], item[-2:]
            if code not in WEEKDAY_CODES:
                return text
            moved.append(ordinal + WEEKDAY_CODES[(WEEKDAY_CODES.index(code) + shift) % 7])
        text = text[: byday.start()] + "BYDAY=" + ",".join(moved) + text[byday.end() :]
    monthday = _BYMONTHDAY.search(text)
    if monthday is not None and new_day.day != old_day.day and int(monthday.group(1)) > 0:
        text = text[: monthday.start()] + f"BYMONTHDAY={new_day.day}" + text[monthday.end() :]
    return text


DAY_NAMES = dict(
    zip(
        WEEKDAY_CODES,
        ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
        strict=True,
    )
)
UNITS = {"DAILY": ("day", "days"), "WEEKLY": ("week", "weeks"), "MONTHLY": ("month", "months")}


def rule_described(rule: str, first_day: datetime.date | None = None) -> str:
    """The rule in words, e.g. "every 2 weeks on Tuesday, 10 times" (a weekly rule without
    days repeats on the weekday of `first_day`)."""
    parts = _parts(_clean_rule(rule))
    interval = int(parts.get("INTERVAL", "1") or 1)
    days = [code[-2:] for code in parts.get("BYDAY", "").split(",") if code]
    if not days and parts.get("FREQ") == "WEEKLY" and first_day is not None:
        days = [WEEKDAY_CODES[first_day.weekday()]]
    if parts.get("FREQ") == "WEEKLY" and days == ["MO", "TU", "WE", "TH", "FR"] and interval == 1:
        text = "every weekday"
    else:
        one, many = UNITS.get(parts.get("FREQ", ""), ("time", "times"))
        text = f"every {one}" if interval == 1 else f"every {interval} {many}"
        if days:
            text += " on " + ", ".join(DAY_NAMES.get(day, day) for day in days)
    if "COUNT" in parts:
        text += f", {parts['COUNT']} times"
    if "UNTIL" in parts:
        until = parts["UNTIL"][:8]
        text += f", until {until[4:6]}/{until[6:8]}/{until[:4]}"
    return text
