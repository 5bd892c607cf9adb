"""Exactly once under faults (issue 12): disclosures between two real `mash-node serve` processes,
one of which is killed with SIGKILL during each and restarted, end in one final state on both
sides, with no item delivered twice or lost, and both audit logs verify. The driver is
`bench/disclosure_faults.py` (which runs 200 of these); here each kill of the plan below falls
where a message (a request, an answer, a withdrawal) has reached one side and not the other,
and one more is drawn at random.
"""

from __future__ import annotations

from pathlib import Path

from bench.disclosure_faults import (
    ANSWER,
    ASKER,
    DELAY,
    HOLDER,
    REQUEST,
    STEPS,
    WINDOW,
    WITHDRAWAL,
    harness,
)

PLAN = [
    # the holder has the request, the asker is killed before it records the acknowledgement:
    # after its restart the asker sends the request again, and the holder knows it
    (ASKER, REQUEST, WINDOW, "answered"),
    # the asker has the answer, the holder is killed before it records the delivery: after its
    # restart the holder sends the answer again, and the asker keeps its items once
    (HOLDER, ANSWER, WINDOW, "answered"),
    # each receiver killed while its servicer holds the message mid-call
    (HOLDER, REQUEST, WINDOW, "declined"),
    (ASKER, ANSWER, WINDOW, "answered"),
    # the holder has the asker's withdrawal, the asker is killed before it records that: after
    # its restart the asker tells it again, and the holder knows it
    (ASKER, ANSWER, WINDOW, "cancelled"),
    # and one kill after a random delay (the seed's draw)
    (None, None, DELAY, None),
]


def test_every_disclosure_ends_once_on_both_sides_whichever_node_is_killed(
    tmp_path: Path,
) -> None:
    with harness(tmp_path / "faults", seed=7) as opened:
        runs = [opened.run(number, *plan) for number, plan in enumerate(PLAN, 1)]
        made, received = opened.totals()
    # the kills that test idempotency fell where they were meant to
    assert runs[0].step == STEPS[REQUEST][1], runs[0]
    assert runs[1].step == STEPS[ANSWER][1], runs[1]
    assert (runs[4].phase, runs[4].step) == (WITHDRAWAL, STEPS[WITHDRAWAL][1]), runs[4]
    problems = [
        f"run {run.number} ({run.victim} {run.phase} {run.mode}, at {run.step!r}): {problem}"
        for run in runs
        for problem in run.duplicates + run.losses + run.verify_failures
    ]
    assert problems == []
    assert [(run.asker_state, run.holder_state) for run in runs] == [
        (run.outcome, run.outcome) for run in runs
    ]
    assert made == received == len(PLAN)
