"""Public holiday calendars (`[business_hours] holiday_calendar = "US-NY"`) from the maintained `holidays` package.

The days are laid out once, when the policy is read, for the years around today: the domain then holds plain
dates (it imports nothing outside the standard library) and a running bridge never computes a calendar again.
"""

from __future__ import annotations

from datetime import date

import holidays

YEARS_BACK = 5  # the report looks back weeks, stored SLA clocks months
YEARS_AHEAD = 10  # due dates and snoozes look ahead; a process is restarted long before this runs out


def holiday_days(code: str, *, today: date | None = None) -> frozenset[date]:
    """The days off of calendar `code` ("US", "US-NY", "GB-SCT"); ValueError names an unknown code."""
    country, _, subdivision = code.strip().upper().partition("-")
    year = (today or date.today()).year
    try:
        calendar = holidays.country_holidays(
            country, subdiv=subdivision or None, years=range(year - YEARS_BACK, year + YEARS_AHEAD + 1)
        )
    except NotImplementedError:
        raise ValueError(
            f'unknown holiday calendar {code!r}; expected a country code with an optional subdivision, like "US-NY"'
        ) from None
    return frozenset(calendar)
