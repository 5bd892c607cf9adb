"""A milestone's RAG status, computed from its dates (never stored): complete when done; red when
its due date has passed undone; amber when it is due within the programme's amber days; green
otherwise. A milestone is late when it is overdue, or was completed after its due date."""

from __future__ import annotations

import datetime as dt


def milestone_rag(
    due_on: dt.date, completed_on: dt.date | None, today: dt.date, amber_days: int
) -> str:
    if completed_on is not None:
        return "complete"
    if due_on < today:
        return "red"
    if (due_on - today).days <= amber_days:
        return "amber"
    return "green"


def is_late(due_on: dt.date, completed_on: dt.date | None, today: dt.date) -> bool:
    if completed_on is not None:
        return completed_on > due_on
    return due_on < today


def days_late(due_on: dt.date, completed_on: dt.date | None, today: dt.date) -> int:
    """Days past the due date: until done, or until today if not done (0 if not late)."""
    end = completed_on if completed_on is not None else today
    return max(0, (end - due_on).days)
