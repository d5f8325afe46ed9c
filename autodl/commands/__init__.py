"""One module per ``autodl`` verb (see ``autodl/cli.py`` for the contract)."""


class UsageError(Exception):
    """A bad command line (a flag, a missing file or folder named on it, an unwritable
    output): the dispatcher prints the message as one line and exits 2, no traceback."""
