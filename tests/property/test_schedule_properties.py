"""Property tests of the schedule engine, against oracles that live here:

- `standard_cron_times`: cronsim (which reads cron as Debian's cron does), evaluated on local wall
  clock times, with EventBridge's DST rule applied: a local time the clocks skip does not fire, a
  repeated one fires once, at its first occurrence. cronsim's own DST handling (Debian's: skipped
  times run after the jump, wildcard jobs run in both passes of a repeated hour) is the documented
  difference, so it is not used.
- `eventbridge_times`: a brute-force EventBridge cron evaluator written from EventBridge's
  documentation, day by day and independent of the engine's.

Over at least two years of fire times (always including 2028-02-29), and around DST changes."""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import pytest
from cronsim import CronSim, CronSimError
from hypothesis import HealthCheck, event, given, reject, settings
from hypothesis import strategies as st

from heartbeat.schedule import Schedule, ScheduleError, parse_schedule
from heartbeat.schedule.eventbridge import next_fire

ZONES = [
    "UTC",
    "America/New_York",
    "Europe/London",
    "Europe/Dublin",  # "negative" DST in the tz data
    "Australia/Sydney",  # southern hemisphere
    "Australia/Lord_Howe",  # a 30-minute DST shift
    "Asia/Kolkata",  # +05:30, no DST
    "America/St_Johns",  # -03:30 with DST
    "America/Santiago",  # changes at midnight
    "America/Havana",  # changes at midnight
    "Pacific/Chatham",  # +12:45 with DST
    "Antarctica/Troll",  # a two-hour DST shift
    "Africa/Casablanca",  # DST off during Ramadan: four changes a year
]
NOW = datetime(2025, 1, 1, tzinfo=UTC)
MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
DAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")


# The oracles ----------------------------------------------------------------------------------


def eventbridge_rule(wall: datetime, zone: ZoneInfo) -> datetime | None:
    """EventBridge's DST rule for one local wall time: None if it does not exist, else its first
    occurrence, in UTC."""
    first = wall.replace(tzinfo=zone, fold=0)
    if first.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != wall:
        return None
    return first.astimezone(UTC)


def local_window(zone: ZoneInfo, start: datetime, end: datetime) -> tuple[datetime, datetime]:
    """Local wall times that cover (start, end], with a day to spare each side."""
    return (
        start.astimezone(zone).replace(tzinfo=None) - timedelta(days=1),
        end.astimezone(zone).replace(tzinfo=None) + timedelta(days=1),
    )


def standard_cron_times(expression: str, timezone: str, start: datetime, end: datetime) -> list[datetime]:
    zone = ZoneInfo(timezone)
    first, last = local_window(zone, start, end)
    times = []
    for wall in CronSim(expression, first):
        if wall > last:
            break
        instant = eventbridge_rule(wall, zone)
        if instant is not None and start < instant <= end:
            times.append(instant)
    return sorted(times)


def eventbridge_times(
    expressions: list[str], timezone: str, start: datetime, end: datetime
) -> list[datetime]:
    zone = ZoneInfo(timezone)
    first, last = local_window(zone, start, end)
    times: set[datetime] = set()
    for expression in expressions:
        assert expression.startswith("cron(") and expression.endswith(")")
        minute, hour, dom, month, dow, year = expression[5:-1].split(" ")
        minutes, hours = values(minute, 0, 59), values(hour, 0, 23)
        months, years = values(month, 1, 12, MONTHS, 1), values(year, 1970, 2199)
        day = first.date()
        while day <= last.date():
            if day.year in years and day.month in months and day_matches(day, dom, dow):
                for h in hours:
                    for m in minutes:
                        instant = eventbridge_rule(datetime(day.year, day.month, day.day, h, m), zone)
                        if instant is not None and start < instant <= end:
                            times.add(instant)
            day += timedelta(days=1)
    return sorted(times)


def values(text: str, low: int, high: int, names: tuple[str, ...] = (), first_named: int = 0) -> set[int]:
    """EventBridge's `,` `-` `*` `/` for one field."""

    def number(token: str) -> int:
        return names.index(token.upper()) + first_named if token.upper() in names else int(token)

    result: set[int] = set()
    for part in text.split(","):
        base, slash, step = part.partition("/")
        if base == "*":
            a, b = low, high
        elif "-" in base:
            a, b = (number(t) for t in base.split("-"))
        else:
            a = number(base)
            b = high if slash else a
        assert low <= a <= b <= high, text
        result.update(range(a, b + 1, int(step) if slash else 1))
    return result


def day_matches(day: date, dom: str, dow: str) -> bool:
    """EventBridge's day fields, exactly one of which is `?`."""
    assert (dom == "?") != (dow == "?")
    last = calendar.monthrange(day.year, day.month)[1]
    if dow == "?":
        weekdays = [d for d in range(1, last + 1) if date(day.year, day.month, d).weekday() < 5]
        for part in dom.split(","):
            if part == "L":
                hit = day.day == last
            elif part == "LW":
                hit = day.day == weekdays[-1]
            elif part.endswith("W"):
                hit = nearest_weekday(day.year, day.month, int(part[:-1])) == day.day
            else:
                hit = day.day in values(part, 1, 31)
            if hit:
                return True
        return False
    weekday = day.isoweekday() % 7 + 1  # EventBridge: 1 is SUN ... 7 is SAT
    if "#" in dow:
        which, nth = dow.split("#")
        return weekday in values(which, 1, 7, DAYS, 1) and (day.day - 1) // 7 + 1 == int(nth)
    for part in dow.split(","):
        if part == "L":
            hit = weekday == 7
        elif part.endswith("L"):
            hit = weekday in values(part[:-1], 1, 7, DAYS, 1) and day.day > last - 7
        else:
            hit = weekday in values(part, 1, 7, DAYS, 1)
        if hit:
            return True
    return False


def nearest_weekday(year: int, month: int, target: int) -> int | None:
    """The Monday-Friday closest to day `target`, in the same month (ties cannot happen)."""
    last = calendar.monthrange(year, month)[1]
    if target > last:
        return None
    candidates = [d for d in range(1, last + 1) if date(year, month, d).weekday() < 5]
    return min(candidates, key=lambda d: abs(d - target))


def engine_times(schedule: Schedule, start: datetime, end: datetime) -> list[datetime]:
    times = []
    after = start
    while (fire := schedule.next_after(after)) is not None and fire <= end:
        times.append(fire)
        after = fire
    return times


def assert_eventbridge_syntax(expression: str) -> None:
    """What EventBridge's documentation allows, field by field."""
    assert len(expression) <= 256
    minute, hour, dom, month, dow, year = expression[5:-1].split(" ")
    assert (dom == "?") != (dow == "?")
    assert set(minute) <= set("0123456789,-*/") and set(hour) <= set("0123456789,-*/")
    assert set(dom) <= set("0123456789,-*/?") and set(month) <= set("0123456789,-*/")
    assert "/" not in dow and "*" not in dow
    assert dow == "?" or all(part in DAYS for item in dow.split(",") for part in item.split("-"))
    assert year == "*"


# Strategies -----------------------------------------------------------------------------------


@st.composite
def term(
    draw: st.DrawFn, low: int, high: int, names: tuple[str, ...] = (), first_named: int = 0, star: bool = True
) -> str:
    """One standard cron term: `*`, `*/s`, `a`, `a-b`, `a-b/s` or `a/s`; names in any case."""

    def show(value: int) -> str:
        index = value - first_named
        if names and 0 <= index < len(names) and draw(st.booleans()):
            return draw(st.sampled_from([names[index], names[index].lower(), names[index].title()]))
        return str(value)

    a, b = sorted(draw(st.lists(st.integers(low, high), min_size=2, max_size=2)))
    step = draw(st.integers(1, high - low + 1))
    terms = ["*", f"*/{step}"] if star else []
    terms += [show(a), f"{show(a)}-{show(b)}", f"{show(a)}/{step}"]
    if a < b:  # cronsim reads `a-a/s` as `a/s`, Debian as `a`: leave that quirk out
        terms.append(f"{show(a)}-{show(b)}/{step}")
    return draw(st.sampled_from(terms))


def field(
    low: int, high: int, names: tuple[str, ...] = (), first_named: int = 0, star: bool = True
) -> st.SearchStrategy[str]:
    """One to three terms; with `star=False` the field does not start with `*`."""
    first = term(low, high, names, first_named, star)
    more = st.lists(term(low, high, names, first_named), max_size=2)
    return st.tuples(first, more).map(lambda terms: ",".join([terms[0], *terms[1]]))


def few(low: int, high: int, favourites: list[int]) -> st.SearchStrategy[str]:
    """A field that selects one to three values, so two years of fire times stay countable."""
    value = st.one_of(st.sampled_from(favourites), st.integers(low, high))
    return st.one_of(
        value.map(str),
        st.lists(value, min_size=2, max_size=3, unique=True).map(lambda vs: ",".join(map(str, vs))),
        value.filter(lambda v: v <= high - 2).map(lambda v: f"{v}-{v + 2}"),
        st.integers(low, high).flatmap(
            lambda v: st.integers(max(1, (high - v) // 2), 60).map(lambda s: f"{v}/{s}")
        ),
    )


DAY_FIELDS = st.one_of(
    st.tuples(field(1, 31), st.just("*")),
    st.tuples(st.just("*"), field(0, 7, DAYS, 0)),
    st.tuples(field(1, 31, star=False), field(0, 7, DAYS, 0, star=False)),  # a day matches either
    st.tuples(field(1, 31), field(0, 7, DAYS, 0)),
)
MONTH_FIELD = st.one_of(st.just("*"), field(1, 12, MONTHS, 1))


@st.composite
def sparse_cron(draw: st.DrawFn) -> str:
    minute = draw(few(0, 59, [0, 15, 30, 45, 59]))
    hour = draw(few(0, 23, [0, 1, 2, 3, 22, 23]))
    dom, dow = draw(DAY_FIELDS)
    seconds = "0 " if draw(st.integers(0, 9)) == 0 else ""
    return f"{seconds}{minute} {hour} {dom} {draw(MONTH_FIELD)} {dow}"


@st.composite
def dense_cron(draw: st.DrawFn) -> str:
    dom, dow = draw(DAY_FIELDS)
    return f"{draw(field(0, 59))} {draw(field(0, 23))} {dom} {draw(MONTH_FIELD)} {dow}"


@st.composite
def two_years(draw: st.DrawFn) -> tuple[datetime, datetime]:
    """25 months, always spanning 2028-02-29."""
    start = datetime(2026, 3, 1, tzinfo=UTC) + timedelta(minutes=draw(st.integers(0, 729 * 24 * 60)))
    return start, start + timedelta(days=761)


@cache
def transitions(timezone: str) -> list[datetime]:
    """The instants (UTC, to the hour) at which `timezone` changes its offset, 2025-2031."""
    zone, found = ZoneInfo(timezone), []
    day = datetime(2025, 1, 1, tzinfo=UTC)
    while day.year < 2031:
        following = day + timedelta(days=1)
        if day.astimezone(zone).utcoffset() != following.astimezone(zone).utcoffset():
            hour = day
            while hour.astimezone(zone).utcoffset() == day.astimezone(zone).utcoffset():
                hour += timedelta(hours=1)
            found.append(hour)
        day = following
    return found


@st.composite
def around_a_dst_change(draw: st.DrawFn, timezone: str) -> tuple[datetime, datetime]:
    changes = transitions(timezone)
    if changes:
        middle = draw(st.sampled_from(changes))
    else:
        middle = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(hours=draw(st.integers(0, 4 * 365 * 24)))
    start = middle - timedelta(hours=draw(st.integers(6, 30)))
    return start, start + timedelta(hours=48)


def parse_or_explain(expression: str, timezone: str) -> Schedule:
    """The engine's schedule; when it refuses, the example is rejected, after checking that the
    refusal is one of the two things standard cron can say and EventBridge cannot: days that must
    match both day fields, or days that never come."""
    try:
        return parse_schedule(expression, timezone, now=NOW)
    except ScheduleError as exc:
        dom, dow = expression.split()[-3], expression.split()[-1]
        if "must both match" in exc.message:
            assert dom.startswith("*") or dow.startswith("*"), expression
        else:
            assert "never run" in exc.message, (expression, exc.message)
            with pytest.raises((CronSimError, StopIteration)):
                next(CronSim(expression, datetime(2025, 1, 1)))
        reject()


# Properties -----------------------------------------------------------------------------------

SETTINGS = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


@settings(SETTINGS, max_examples=60)
@given(sparse_cron(), st.sampled_from(ZONES), two_years())
def test_eventbridge_expressions_fire_at_the_standard_cron_times(
    expression: str, timezone: str, window: tuple[datetime, datetime]
) -> None:
    schedule = parse_or_explain(expression, timezone)
    expressions = [s.expression for s in schedule.eventbridge()]
    event(f"{len(expressions)} EventBridge schedule(s)")
    for text in expressions:
        assert_eventbridge_syntax(text)
    assert eventbridge_times(expressions, timezone, *window) == standard_cron_times(
        expression, timezone, *window
    )


@settings(SETTINGS, max_examples=40)
@given(sparse_cron(), st.sampled_from(ZONES), two_years())
def test_next_fire_times_agree_with_cronsim(
    expression: str, timezone: str, window: tuple[datetime, datetime]
) -> None:
    schedule = parse_or_explain(expression, timezone)
    assert engine_times(schedule, *window) == standard_cron_times(expression, timezone, *window)


@settings(SETTINGS, max_examples=60)
@given(st.data(), dense_cron(), st.sampled_from([z for z in ZONES if z != "UTC"]))
def test_dense_schedules_across_dst_changes(data: st.DataObject, expression: str, timezone: str) -> None:
    window = data.draw(around_a_dst_change(timezone))
    schedule = parse_or_explain(expression, timezone)
    expected = standard_cron_times(expression, timezone, *window)
    assert engine_times(schedule, *window) == expected
    assert eventbridge_times([s.expression for s in schedule.eventbridge()], timezone, *window) == expected


# next_fire on EventBridge's own syntax (what the local stack's scheduler evaluates) --------------

EB_DAYS_OF_MONTH = st.one_of(
    st.just("*"),
    st.just("L"),
    st.just("LW"),
    st.integers(1, 31).map(lambda d: f"{d}W"),
    field(1, 31),
)
EB_DAYS_OF_WEEK = st.one_of(
    st.just("*"),
    st.just("L"),
    st.sampled_from(["1", "2", "6", "7", "FRI", "sun"]).map(lambda d: f"{d}L"),
    st.tuples(st.sampled_from(["1", "3", "7", "MON", "thu"]), st.integers(1, 5)).map(
        lambda t: f"{t[0]}#{t[1]}"
    ),
    st.lists(st.sampled_from([str(d) for d in range(1, 8)] + list(DAYS)), min_size=1, max_size=3).map(
        ",".join
    ),
    st.sampled_from(["2-6", "MON-FRI", "1-7", "SUN-TUE"]),
)
EB_YEARS = st.sampled_from(["*", "2026", "2027-2028", "2026/2", "2028,2030"])


@st.composite
def eventbridge_cron(draw: st.DrawFn) -> str:
    minute = draw(few(0, 59, [0, 30, 59]))
    hour = draw(few(0, 23, [0, 1, 2, 3, 23]))
    if draw(st.booleans()):
        dom, dow = draw(EB_DAYS_OF_MONTH), "?"
    else:
        dom, dow = "?", draw(EB_DAYS_OF_WEEK)
    month = draw(st.one_of(st.just("*"), field(1, 12, MONTHS, 1)))
    return f"cron({minute} {hour} {dom} {month} {dow} {draw(EB_YEARS)})"


@settings(SETTINGS, max_examples=60)
@given(eventbridge_cron(), st.sampled_from(ZONES), two_years())
def test_next_fire_evaluates_eventbridge_cron_as_documented(
    expression: str, timezone: str, window: tuple[datetime, datetime]
) -> None:
    start, end = window
    times = []
    after = start
    while (fire := next_fire(expression, timezone, after)) is not None and fire <= end:
        times.append(fire)
        after = fire
    assert times == eventbridge_times([expression], timezone, start, end)
