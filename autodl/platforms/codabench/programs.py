"""What a bundle's program folder runs, and what its scoring program writes.

A program's command is read as Codabench's compute worker reads it (``metadata.yaml``,
else ``metadata``). A scoring program is known to be ``autodl score`` when its command
says so or runs the program's ``score.py`` as ``autodl bundle`` wrote it; then the keys
of ``scores.json`` are known too (:func:`score_keys`). Any other program is the
organizers' own, and what it writes is not determined.
"""

from __future__ import annotations

import re
from pathlib import Path

from autodl.platforms.codabench.contents import BundleFiles, FolderFiles


def read_metadata_command(program_dir: Path) -> str | None:
    """The ``command`` of a program folder, read as the compute worker reads it.

    ``metadata.yaml`` first, then ``metadata``; None when neither holds a command.
    """
    return metadata_command(FolderFiles(program_dir), "")


def metadata_command(files: BundleFiles, program: str) -> str | None:
    """The command of the program folder at ``program`` inside the bundle ``files``."""
    import yaml

    for name in ("metadata.yaml", "metadata"):
        rel = f"{program}/{name}" if program else name
        if files.kind(rel) == "file":
            try:
                data = yaml.safe_load(files.read(rel).decode("utf-8"))
            except (yaml.YAMLError, UnicodeDecodeError):
                return None
            command = data.get("command") if isinstance(data, dict) else None
            return command if isinstance(command, str) and command.strip() else None
    return None


def score_keys() -> frozenset[str]:
    """The numbers ``autodl score`` writes to ``scores.json``: the keys a leaderboard
    column can show (a column's score is a number; status and error are text)."""
    import typing

    from autodl.protocol import ScoreRecord

    numbers = (int, float, int | None, float | None)
    hints = typing.get_type_hints(ScoreRecord)
    return frozenset(k for k in ScoreRecord().to_dict() if hints.get(k) in numbers)


def scoring_is_autodl(files: BundleFiles, program: str) -> bool:
    """Whether the scoring program runs ``autodl score``: its command does, or runs the
    program's ``score.py`` as the exporter wrote it. Anything else is not determined."""
    from autodl.platforms.codabench.pages import SCORING_ENTRY

    command = metadata_command(files, program)
    if command is None:
        return False
    if re.search(r"(^|[\s/])autodl score(\s|$)", command):  # autodl, .../autodl, -m autodl
        return True
    entry = f"{program}/score.py"
    if "score.py" not in command or files.kind(entry) != "file":
        return False
    return files.read(entry, len(SCORING_ENTRY) + 1) == SCORING_ENTRY.encode("utf-8")
