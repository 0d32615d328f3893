"""Working time under the team's business hours: add a working duration, measure one, find the next opening.

The clock maps every instant to the working time accumulated since an arbitrary origin (a non-decreasing step
function that is flat outside the working windows). Adding and measuring are then subtraction and one bisect.
Working windows are local wall-clock hours (`start`-`end` on working days that are not holidays) turned into
UTC once per local date, so DST changes, weekends, holidays and overnight gaps are handled in one place:
- a local time that happens twice (fall back) opens at its first occurrence and closes at its second;
- a local time that never happens (spring forward) is the instant the clock jumps past it.
Instants go in as aware datetimes in any timezone and come out in UTC; the internal unit is the microsecond
(integers, so that adding and measuring round-trip exactly).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from bridge.domain.durations import Span
from bridge.domain.policy import BusinessHours

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_NAIVE_EPOCH = datetime(1970, 1, 1)
_MICRO = timedelta(microseconds=1)
_DAY = timedelta(days=1)
_CHUNK = 120  # local dates laid out per extension of the table
_MEMO = 65_536  # moments remembered: a tick's worth for ten thousand tasks


def _us(moment: datetime) -> int:
    """Microseconds since the epoch; a naive datetime raises TypeError (it names no instant)."""
    return (moment - _EPOCH) // _MICRO


def _utc(us: int) -> datetime:
    return _EPOCH + timedelta(microseconds=us)


@dataclass(frozen=True)
class _Table:
    """Working windows of the local dates [first, last), in order; `before[i]` is the working time before window i."""

    first: date
    last: date
    lo: int  # the instant local date `first` begins
    hi: int  # the instant local date `last` begins
    opens: list[int]
    closes: list[int]
    before: list[int]
    ends: list[int]  # before[i] + the length of window i


class BusinessClock:
    """Working time under one BusinessHours. Logically immutable; windows are laid out lazily and memoised."""

    def __init__(self, hours: BusinessHours) -> None:
        self.hours = hours
        self._zone = ZoneInfo(hours.timezone)
        self._days = frozenset(hours.days)
        self._workday = datetime.combine(date.min, hours.end) - datetime.combine(date.min, hours.start)
        self._table: _Table | None = None
        self._midnights: dict[date, datetime] = {}
        # The scheduler asks about the same `now` (and the same stored moments) for every task of every tick:
        # remember answers by the datetime's identity. Holding the datetime keeps its id from being reused.
        self._known: dict[int, tuple[datetime, int]] = {}
        self._last_open: tuple[datetime, bool] | None = None

    # --- public, in datetimes -------------------------------------------------------------------------------

    @property
    def workday(self) -> timedelta:
        """The length of one working day ("1d") on this calendar."""
        return self._workday

    def span(self, duration: Span) -> timedelta:
        """A bridge.toml duration as working time: "1d" is one working day, "1w" one working week of this calendar."""
        return (duration.weeks * len(self._days) + duration.days) * self._workday + duration.time

    def is_open(self, moment: datetime) -> bool:
        """Whether working time runs at `moment` (a window includes its opening, not its closing)."""
        last = self._last_open
        if last is not None and last[0] is moment:
            return last[1]
        t = _us(moment)
        table = self._covering(t)
        i = bisect_right(table.opens, t) - 1
        answer = i >= 0 and t < table.closes[i]
        self._last_open = (moment, answer)
        return answer

    def next_open(self, moment: datetime) -> datetime:
        """`moment` itself when working time runs then, else the next opening (in UTC)."""
        t = _us(moment)
        table = self._covering(t)
        j = bisect_right(table.closes, t)
        while j == len(table.closes):
            table = self._extend(forward=True)
            j = bisect_right(table.closes, t)
        return _utc(max(t, table.opens[j]))

    def elapsed(self, start: datetime, end: datetime) -> timedelta:
        """Working time between two instants; negative when `end` comes first."""
        return timedelta(microseconds=self._worked_at(end) - self._worked_at(start))

    def add(self, moment: datetime, duration: timedelta) -> datetime:
        """The earliest instant `duration` of working time after `moment` (before it, when negative), in UTC.

        A result that lands exactly on a closing stays there (a deadline "by 17:00"), not at the next opening.
        """
        if not duration:
            return _utc(_us(moment))
        return _utc(self._instant_of(self._worked_at(moment) + duration // _MICRO))

    def to_local(self, moment: datetime) -> datetime:
        """`moment` on the team's wall clock."""
        return moment.astimezone(self._zone)

    def local_date(self, moment: datetime) -> date:
        """The date on the team's wall calendar at `moment`."""
        return moment.astimezone(self._zone).date()

    def day_start(self, day: date) -> datetime:
        """The instant local date `day` begins, in UTC (memoised: reminders ask for it every tick)."""
        found = self._midnights.get(day)
        if found is None:
            found = self._midnights[day] = _utc(self._local(datetime.combine(day, time()), latest=False))
        return found

    # --- the step function ----------------------------------------------------------------------------------

    def _worked_at(self, moment: datetime) -> int:
        known = self._known.get(id(moment))
        if known is not None and known[0] is moment:
            return known[1]
        if len(self._known) >= _MEMO:
            self._known.clear()
        worked = self._worked(_us(moment))
        self._known[id(moment)] = (moment, worked)
        return worked

    def _worked(self, t: int) -> int:
        table = self._table
        if table is None or not table.lo <= t < table.hi or not table.opens or table.opens[0] > t:
            table = self._covering(t)
            while not table.opens or table.opens[0] > t:
                table = self._extend(forward=False)
        i = bisect_right(table.opens, t) - 1
        return table.before[i] + min(t, table.closes[i]) - table.opens[i]

    def _instant_of(self, worked: int) -> int:
        """The earliest instant at which `worked` microseconds of working time have accumulated."""
        table = self._table
        assert table is not None, "a worked time comes from an instant, which lays out the table first"
        while not table.ends or table.ends[-1] < worked:
            table = self._extend(forward=True)
        while table.before[0] >= worked:
            table = self._extend(forward=False)
        j = bisect_left(table.ends, worked)
        return table.opens[j] + worked - table.before[j]

    # --- laying out windows ---------------------------------------------------------------------------------

    def _covering(self, t: int) -> _Table:
        table = self._table
        if table is None:
            day = _utc(t).astimezone(self._zone).date()
            table = self._table = self._build(day - timedelta(days=7), day + timedelta(days=_CHUNK))
        while t < table.lo:
            table = self._extend(forward=False)
        while t >= table.hi:
            table = self._extend(forward=True)
        return table

    def _extend(self, *, forward: bool) -> _Table:
        old = self._table
        assert old is not None
        if forward:
            new = self._build(old.last, old.last + timedelta(days=_CHUNK), base=old.ends[-1] if old.ends else 0)
            opens, closes = old.opens + new.opens, old.closes + new.closes
            before, ends = old.before + new.before, old.ends + new.ends
            table = _Table(old.first, new.last, old.lo, new.hi, opens, closes, before, ends)
        else:
            new = self._build(old.first - timedelta(days=_CHUNK), old.first)
            shift = (old.before[0] if old.before else 0) - (new.ends[-1] if new.ends else 0)
            before = [b + shift for b in new.before] + old.before
            ends = [e + shift for e in new.ends] + old.ends
            opens, closes = new.opens + old.opens, new.closes + old.closes
            table = _Table(new.first, old.last, new.lo, old.hi, opens, closes, before, ends)
        # One assignment: a reader never sees half a table.
        self._table = table
        return table

    def _build(self, first: date, last: date, *, base: int = 0) -> _Table:
        hours = self.hours
        opens: list[int] = []
        closes: list[int] = []
        before: list[int] = []
        ends: list[int] = []
        worked = base
        day = first
        while day < last:
            if day.weekday() in self._days and not hours.is_holiday(day):
                opening = self._local(datetime.combine(day, hours.start), latest=False)
                closing = self._local(datetime.combine(day, hours.end), latest=True)
                if opening < closing:  # a window wholly inside a skipped hour (or day) holds no time
                    opens.append(opening)
                    closes.append(closing)
                    before.append(worked)
                    worked += closing - opening
                    ends.append(worked)
            day += _DAY
        lo = self._local(datetime.combine(first, time()), latest=False)
        hi = self._local(datetime.combine(last, time()), latest=False)
        return _Table(first, last, lo, hi, opens, closes, before, ends)

    def _local(self, wall: datetime, *, latest: bool) -> int:
        """The instant a naive local wall time stands for (see the module docstring for DST)."""
        naive = (wall - _NAIVE_EPOCH) // _MICRO
        first = naive - self._offset(wall)  # fold=0: the offset in force before a change
        second = naive - self._offset(wall.replace(fold=1))
        if first <= second:  # unique (equal), or repeated: fold=0 is the earlier reading
            return second if latest else first
        # Skipped: fold=1 reads before the gap and fold=0 after it; find the jump to the second.
        low, high = second // 1_000_000, -(-first // 1_000_000)
        while high - low > 1:
            middle = (low + high) // 2
            if datetime.fromtimestamp(middle, self._zone).replace(tzinfo=None) >= wall:
                high = middle
            else:
                low = middle
        return high * 1_000_000

    def _offset(self, wall: datetime) -> int:
        offset = self._zone.utcoffset(wall)
        assert offset is not None, "a ZoneInfo has an offset for every wall time"
        return offset // _MICRO


@lru_cache(maxsize=64)
def clock_for(hours: BusinessHours) -> BusinessClock:
    """The one clock per BusinessHours, so that its laid-out windows are shared by every caller."""
    return BusinessClock(hours)
