"""Ingestion: run a submission's ``model.py`` under a time budget, as a trusted supervisor.

- :mod:`.supervisor` (trusted): ``ingest(dataset_dir, output_dir, code_dir, options)``,
  the clock, the budgets, the protocol files, the status, the kill;
- :mod:`.worker` (untrusted, its own process): imports ``model.py``, calls the API;
- :mod:`.options` (what a caller decides), :mod:`.replies` (checking what the worker
  sends), :mod:`.repair` (ingestion's files in the output folder, restored when
  tampered with), :mod:`.output` (the worker's stdout/stderr);
- :mod:`.launch`, :mod:`.child`, :mod:`.channel`, :mod:`.outcome` (the supervisor's
  parts: the worker's start, its process, the message exchange, a run's end);
- :mod:`.api`, :mod:`.messages`, :mod:`.limits`, :mod:`.sandbox`, :mod:`.progress`: the
  pieces.

Nothing is imported here: the worker imports this package too, and must never load the
supervisor's code.
"""
