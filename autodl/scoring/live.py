"""Scoring live beside ingestion: poll the prediction folder, stop at ``end.txt``, and end
ingestion when its time budget passes first.

As the 2019 scoring program: it waits for ``start.txt``, scores every new prediction as
it lands (rewriting the score folder each time, ``detailed_results.html`` refreshing
itself), and when ``start_time + time_budget`` passes before ``end.txt`` appears, it ends
the ingestion by the pid in ``start.txt`` (after checking that the pid is still that
ingestion, :mod:`autodl.scoring.process`) and scores what exists.
"""

from __future__ import annotations

import logging
import os
import time
from typing import Any

from autodl import protocol
from autodl.protocol import Status
from autodl.scoring.curve import DEFAULT_T0
from autodl.scoring.process import end_process, ingestion_pid_problem, is_alive
from autodl.scoring.result import ScoreResult
from autodl.scoring.scorer import Scorer

__all__ = ["end_ingestion", "watch", "watch_folder"]

log = logging.getLogger("autodl.scoring")


def watch(
    scorer: Scorer,
    *,
    poll_interval: float = 1.0,
    start_timeout: float = 1800.0,
    kill_grace: float = 0.0,
    term_timeout: float = 5.0,
) -> ScoreResult:
    """Score live beside ingestion until ``end.txt`` appears or the budget passes.

    When ``start_time + time_budget (+ kill_grace)`` passes first, ingestion is ended by
    the pid in ``start.txt`` (its process group when it leads one) and what exists is
    scored with status ``time_limit_exceeded``.
    """
    scorer.write_outputs(scorer.result(), live=True)
    if scorer.solution is None or scorer.bad_option:
        # Without a valid budget there is no deadline to watch for: stop at once.
        return scorer.finish(check_end=False)
    waited_until = time.monotonic() + start_timeout
    while scorer.start is None:
        scorer.refresh_start(final=False)
        if scorer.start is not None or scorer.end_present():
            break
        if time.monotonic() > waited_until:
            start_path = scorer.prediction_dir / protocol.START_FILE
            if start_path.exists():
                scorer.refresh_start(final=True)  # says what is wrong with it
            else:
                scorer.note(
                    f"{start_path}: did not appear within {start_timeout:g} s: "
                    "ingestion did not start",
                    Status.BAD_INPUT,
                    level=logging.ERROR,
                )
            return scorer.finish(check_end=False)
        time.sleep(poll_interval)
    if scorer.start is not None:
        log.info(
            "ingestion started (pid %d, budget %g s); scoring live",
            scorer.start.ingestion_pid,
            scorer.time_budget,
        )
    while True:
        if scorer.end_present():  # a FIFO or a link by that name is not an end
            log.info("%s found: ingestion has ended", protocol.END_FILE)
            return scorer.finish()
        start = scorer.start
        budget = scorer.time_budget
        if start is not None and budget is not None:
            if time.time() >= start.start_time + budget + kill_grace:
                return end_ingestion(scorer, start, budget, term_timeout)
        if scorer.poll():
            r = scorer.result()
            scorer.write_outputs(r, live=True)
            log.info("%d prediction(s) scored; current ALC %.4f", len(r.scored), r.alc)
        time.sleep(poll_interval)


def end_ingestion(
    scorer: Scorer, start: protocol.StartInfo, budget: float, term_timeout: float = 5.0
) -> ScoreResult:
    """The budget passed before ``end.txt``: end the ingestion that wrote ``start``, then
    score what it left (status ``time_limit_exceeded``)."""
    pid = start.ingestion_pid
    refused = ingestion_pid_problem(pid, start.start_time)
    if refused is not None:
        how = refused
    elif pid > 0 and is_alive(pid):
        how = end_process(pid, term_timeout)
    else:
        how = f"ingestion (pid {pid}) had already ended without writing {protocol.END_FILE}"
    scorer.note(
        f"the time budget of {budget:g} s passed before {protocol.END_FILE} appeared: {how}; "
        "scoring the predictions made so far",
        Status.TIME_LIMIT_EXCEEDED,
        level=logging.ERROR,
    )
    return scorer.finish(check_end=False)


def watch_folder(
    solution_dir: str | os.PathLike[str],
    prediction_dir: str | os.PathLike[str],
    score_dir: str | os.PathLike[str],
    time_budget: float | None = None,
    t0: float = DEFAULT_T0,
    *,
    poll_interval: float = 1.0,
    start_timeout: float = 1800.0,
    kill_grace: float = 0.0,
    term_timeout: float = 5.0,
    **options: Any,
) -> ScoreResult:
    """Score live beside ingestion (see :func:`watch`) and return the final result.

    ``options`` are :class:`~autodl.scoring.scorer.Scorer`'s (``seed``, ``bootstrap``,
    ``draw``, ``stable_after``, ``compat``).
    """
    scorer = Scorer(
        solution_dir, prediction_dir, score_dir, time_budget=time_budget, t0=t0, **options
    )
    return watch(
        scorer,
        poll_interval=poll_interval,
        start_timeout=start_timeout,
        kill_grace=kill_grace,
        term_timeout=term_timeout,
    )
