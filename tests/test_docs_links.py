"""Every relative link of the README and the docs leads to a file of this repository."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PAGES = sorted(
    [REPO / "README.md", REPO / "baselines" / "README.md"]
    + list((REPO / "docs").glob("*.md"))
    + list((REPO / "datasets").glob("*.md"))
)
# [text](target) and [text](target "title"); images too
LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
# a Markdown file of ours named in code: `docs/x.md`, `datasets/x.md`, or a capitalised
# `SOME_NAME.md` (the kind of page a reader looks for at the root); other names in code
# (a Codabench bundle's pages, say) are files of something else
NAMED = re.compile(r"`((?:docs|datasets|baselines|docker|examples)/[\w./-]+\.md|[A-Z][A-Z_]*\.md)`")


def _prose(text: str) -> str:
    """The page without its fenced code blocks (commands there are not links)."""
    return re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)


def _markdown_names() -> set[str]:
    """Names of the repository's own Markdown files (not those of the virtualenv)."""
    tops = [p for p in REPO.iterdir() if p.is_dir() and not p.name.startswith(".")]
    return {p.name for top in tops if top.name != "build" for p in top.rglob("*.md")} | {
        p.name for p in REPO.glob("*.md")
    }


def relative_links(page: Path) -> list[str]:
    links = LINK.findall(_prose(page.read_text(encoding="utf-8")))
    return [t for t in links if not re.match(r"[a-z][a-z0-9+.-]*:", t) and not t.startswith("#")]


def test_pages_are_found():
    names = {p.relative_to(REPO).as_posix() for p in PAGES}
    assert {"README.md", "docs/protocol.md", "docs/scoring.md", "datasets/README.md"} <= names


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(REPO).as_posix())
def test_relative_links_resolve(page):
    broken = []
    for target in relative_links(page):
        path = (page.parent / target.split("#", 1)[0]).resolve()
        if not path.exists() or not path.is_relative_to(REPO):
            broken.append(target)
    assert not broken, f"{page.relative_to(REPO)}: links to missing files: {broken}"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(REPO).as_posix())
def test_markdown_files_named_in_code_exist(page):
    """A page that names `SOMETHING.md` in code means a file of the repository."""
    missing = []
    for name in NAMED.findall(_prose(page.read_text(encoding="utf-8"))):
        candidates = [page.parent / name, REPO / name]
        found = any(c.exists() for c in candidates) or Path(name).name in _markdown_names()
        if not found:
            missing.append(name)
    assert not missing, f"{page.relative_to(REPO)}: names missing files: {missing}"


def test_the_checker_sees_a_broken_link(tmp_path):
    page = tmp_path / "page.md"
    page.write_text(
        "[ok](https://example.org) [anchor](#x) [bad](nowhere.md) [also](<sub/gone.md#y>)\n"
        "```\n[not a link](in-code.md)\n```\n",
        encoding="utf-8",
    )
    assert relative_links(page) == ["nowhere.md", "sub/gone.md#y"]
    named = NAMED.findall("see `AUTODL_PROTOCOL.md`, `docs/gone.md` and a bundle's `pages/x.md`")
    assert named == ["AUTODL_PROTOCOL.md", "docs/gone.md"]
    assert "AUTODL_PROTOCOL.md" not in _markdown_names()


@pytest.mark.parametrize("config", ["baselines/challenge.yaml", "examples/challenge.yaml"])
def test_shipped_challenge_files_need_nothing_outside_the_checkout(config):
    """A clone has no ../shared: every dataset is built-in, every submission in the repo."""
    from autodl.challenge.config import load_config

    cfg = load_config(REPO / config)
    outside = [d.name for d in cfg.datasets if d.builtin is None]
    assert not outside, f"{config}: datasets that are not built-in: {outside}"
    for entry in cfg.submissions:
        assert Path(entry.path).resolve().is_relative_to(REPO), (config, entry.path)
    assert "shared" not in (REPO / config).read_text(encoding="utf-8")
