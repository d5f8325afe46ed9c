"""Local runs and challenges: configs, jobs, results, leaderboards and their pages.

Modules: ``config`` (the challenge YAML), ``runner`` (jobs as ingestion and scoring
processes), ``results`` (what a run produced; the results table), ``leaderboard`` (ranks),
``report`` (HTML pages), ``live`` (the terminal line of ``autodl run``), ``evaluate``
(``autodl run`` and ``autodl challenge`` end to end). Nothing heavy is imported here.
"""
