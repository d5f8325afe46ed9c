"""One module per ``autodl`` verb (see ``autodl/cli.py`` for the contract)."""
