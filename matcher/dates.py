"""Dates as day numbers (days since 1970-01-01) and calendar arithmetic, shared by the loader and both backends."""

from __future__ import annotations

import calendar
import datetime as dt

from matcher import ir

EPOCH = dt.date(1970, 1, 1)


def day_number(day: dt.date) -> int:
    return (day - EPOCH).days


def from_day_number(days: int) -> dt.date:
    return EPOCH + dt.timedelta(days=days)


def subtract(day: dt.date, duration: ir.Duration) -> dt.date:
    """``day`` minus a calendar duration; months clamp to the month's end."""
    months = duration.years * 12 + duration.months
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    month += 1
    clamped = dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))
    return clamped - dt.timedelta(days=duration.days + 7 * duration.weeks)


def first_day_after(day: dt.date, duration: ir.Duration) -> dt.date:
    """The first date D with ``subtract(D, duration) >= day``: when ``duration`` has passed since ``day``
    (a window that began on ``day`` has closed; an "at least ... since" rule is met)."""
    months = duration.years * 12 + duration.months
    year, month = divmod(day.year * 12 + day.month - 1 + months, 12)
    month += 1
    guess = dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))
    guess += dt.timedelta(days=duration.days + 7 * duration.weeks)
    while subtract(guess, duration) < day:
        guess += dt.timedelta(days=1)
    while subtract(guess - dt.timedelta(days=1), duration) >= day:
        guess -= dt.timedelta(days=1)
    return guess
