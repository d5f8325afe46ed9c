"""The parts of the any-time AutoDL baseline: domains, data reading, learners, training.

The package sits beside ``model.py`` in the submission folder; the ingestion worker puts
that folder on ``sys.path``, so ``import anytime`` works as it does for any submission.
"""
