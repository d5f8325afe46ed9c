"""Codabench competition bundles: what goes in one, the rules it must pass, how it runs.

- :mod:`.bundle`: :func:`build_bundle` turns a challenge YAML into ``competition.zip``;
- :mod:`.rules`: :func:`check_bundle`, our reading of Codabench's v2 unpacker rules;
- :mod:`.pages`: the markdown pages and the starting kit's README;
- :mod:`.worker`: how Codabench's compute worker lays out a run (folders, mounts,
  command variables), for running a bundle's programs as it would.
"""

from autodl.platforms.codabench.rules import BundleError, check_bundle

__all__ = ["BundleError", "check_bundle"]
