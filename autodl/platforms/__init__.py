"""Exports to the platforms that host challenges (today: Codabench)."""
