"""Every picture and HTML page of the project, in one place and one style.

- :mod:`.curves`: learning-curve PNGs, one style for a single run and for many runs;
- :mod:`.detailed_results`: scoring's ``detailed_results.html``;
- :mod:`.page`: the frame of every page: Jinja2 templates (``templates/``, autoescaped),
  one base template and stylesheet, one set of words;
- :mod:`.leaderboard`: ``leaderboard.html``;
- :mod:`.run`: a run's ``report.html``.

Pages are self-contained files (inline CSS, pictures embedded as base64 PNG, no script,
no network), so they open offline and can be mailed or archived as they are.
Matplotlib is imported only when a picture is drawn.
"""
