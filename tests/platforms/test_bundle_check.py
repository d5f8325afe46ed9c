"""`autodl bundle --check`: a bundle exported from the example challenge, then edited by
hand the ways organizers edit them, checked through the real command."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml

from autodl.platforms.codabench import BundleError, check_bundle
from autodl.platforms.codabench.rules import score_keys
from autodl.protocol import USAGE_EXIT_CODE, ScoreRecord

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "challenge.yaml"  # built-in datasets digits and wine


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> Path:
    """The example challenge's bundle, made by the real command."""
    out = tmp_path_factory.mktemp("export") / "competition.zip"
    cmd = [sys.executable, "-m", "autodl", "bundle", str(EXAMPLE), "-o", str(out)]
    proc = subprocess.run(
        [*cmd, "--start", "2026-03-01"], capture_output=True, text=True, timeout=600
    )
    assert proc.returncode == 0, proc.stderr
    return out


def _edit(src: Path, dst: Path, *, drop: str | None = None, yaml_edit=None, raw=None) -> Path:
    """A copy of the bundle zip without the entries under ``drop``, with competition.yaml
    changed by ``yaml_edit(data)`` or replaced by the text ``raw``."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            name = info.filename
            if drop and (name == drop or name.startswith(drop.rstrip("/") + "/")):
                continue
            body = zin.read(info)
            if name == "competition.yaml" and (yaml_edit or raw is not None):
                if raw is not None:
                    body = raw.encode()
                else:
                    data = yaml.safe_load(body)
                    yaml_edit(data)
                    body = yaml.safe_dump(data, sort_keys=False).encode()
            zout.writestr(info, body)
    return dst


def test_an_exported_bundle_passes(cli, exported, tmp_path):
    proc = cli("bundle", "--check", exported)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert f"{exported}: passes ('Example local challenge': 2 task(s), 1 phase(s))" in out
    # The tables: both tasks scored by autodl score, the phase, every column written.
    assert "digits" in out and "wine" in out and out.count("autodl score") == 2
    assert "2026-03-01" in out and "AutoDL" in out
    for key in ("alc", "nauc", "duration", "num_predictions"):
        assert key in out
    assert out.count("written") == 4 and "zipped" in out and "unzipped" in out
    # The phase's limit passes the default queue's: a warning, not a failure.
    assert "warning: phases[0].execution_time_limit" in proc.stderr
    # The same rules read the zip in place and the unpacked folder alike.
    folder = tmp_path / "unpacked"
    with zipfile.ZipFile(exported) as zf:
        zf.extractall(folder)
    assert cli("bundle", "--check", folder).returncode == 0
    in_zip, in_folder = check_bundle(exported), check_bundle(folder)
    assert in_zip.files == in_folder.files and in_zip.columns == in_folder.columns
    # Sizes are the unzipped bytes, checked against zipfile's own count.
    with zipfile.ZipFile(exported) as zf:
        digits = sum(i.file_size for i in zf.infolist() if i.filename.startswith("data/digits-"))
    assert in_zip.files["data/digits-input"] + in_zip.files["data/digits-reference"] == digits


BREAKS = [
    # (id, what is dropped from the zip, the YAML edit, the field and message expected)
    (
        "deleted_program",
        "programs/wine-scoring",
        None,
        "tasks[1].scoring_program: 'programs/wine-scoring' not found in the bundle",
    ),
    ("deleted_page", "pages/data.md", None, "pages[2].file: 'pages/data.md' not found"),
    (
        "duplicate_task_index",
        None,
        lambda c: (c["tasks"][1].update(index=0), c["phases"][0].update(tasks=[0])),
        "tasks[1].index: duplicate task index 0",
    ),
    (
        "column_not_written",
        None,
        lambda c: c["leaderboards"][0]["columns"][1].update(key="auc"),
        "leaderboards[0].columns[1].key: 'auc' is not a number scores.json holds",
    ),
    (
        "column_of_text",  # status is in scores.json, but a column shows numbers only
        None,
        lambda c: c["leaderboards"][0]["columns"][3].update(key="status"),
        "leaderboards[0].columns[3].key: 'status' is not a number scores.json holds",
    ),
    (
        "phase_missing_task",
        None,
        lambda c: c["phases"][0]["tasks"].append(5),
        "phases[0].tasks: task index 5 is not defined under 'tasks'",
    ),
]


@pytest.mark.parametrize(
    "drop, edit, expected", [b[1:] for b in BREAKS], ids=[b[0] for b in BREAKS]
)
def test_a_broken_bundle_fails_naming_the_field(cli, exported, tmp_path, drop, edit, expected):
    broken = _edit(exported, tmp_path / "broken.zip", drop=drop, yaml_edit=edit)
    proc = cli("bundle", "--check", broken)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    lines = proc.stderr.strip().splitlines()
    # One line per problem, each naming the bundle and its competition.yaml, then a count.
    assert len(lines) == 2, lines
    assert lines[0].startswith(f"autodl bundle: {broken}: competition.yaml: {expected}"), lines
    assert lines[-1] == f"autodl bundle: {broken}: 1 problem(s)"
    assert "passes" not in proc.stdout and "Traceback" not in proc.stderr


def test_every_problem_is_listed_one_line_each(cli, exported, tmp_path):
    def edits(c):
        c["tasks"][1]["index"] = 0
        c["phases"][0]["tasks"] = [0, 9]

    broken = _edit(exported, tmp_path / "b.zip", drop="logo.png", yaml_edit=edits)
    proc = cli("bundle", "--check", broken)
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert lines[-1].endswith("3 problem(s)") and len(lines) == 4, lines
    assert any("image: 'logo.png' not found" in line for line in lines)
    assert any("tasks[1].index: duplicate" in line for line in lines)
    assert any("phases[0].tasks: task index 9" in line for line in lines)


def test_entries_that_would_land_outside_or_are_links_fail(cli, exported, tmp_path):
    # Codabench's unpacker would quietly rewrite these names; the check refuses them.
    hostile = tmp_path / "hostile.zip"
    with zipfile.ZipFile(exported) as zin, zipfile.ZipFile(hostile, "w") as zout:
        for info in zin.infolist():
            zout.writestr(info, zin.read(info))
        zout.writestr("../escape.txt", b"x")
        link = zipfile.ZipInfo("pages/link.md")
        link.external_attr = 0o120777 << 16  # a symbolic link
        zout.writestr(link, b"/etc/passwd")
    proc = cli("bundle", "--check", hostile)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert lines[-1] == f"autodl bundle: {hostile}: 2 problem(s)", lines
    assert any("zip entry: member '../escape.txt' points outside" in line for line in lines)
    assert any("zip entry: member 'pages/link.md' is a link" in line for line in lines)


def test_a_competition_yaml_that_is_not_yaml(cli, exported, tmp_path):
    broken = _edit(exported, tmp_path / "b.zip", raw="title: [never closed\nversion: 2\n")
    proc = cli("bundle", "--check", broken)
    assert proc.returncode == 1
    first = proc.stderr.splitlines()[0]
    assert first.startswith(f"autodl bundle: {broken}: competition.yaml: not valid YAML: line 2")


def test_a_folder_zipped_whole_is_named(cli, exported, tmp_path):
    nested = tmp_path / "nested.zip"
    with zipfile.ZipFile(exported) as zin, zipfile.ZipFile(nested, "w") as zout:
        for info in zin.infolist():
            zout.writestr("mybundle/" + info.filename, zin.read(info))
    proc = cli("bundle", "--check", nested)
    assert proc.returncode == 1
    assert "no competition.yaml at the bundle's root" in proc.stderr
    assert "'mybundle/competition.yaml': zip the folder's contents" in proc.stderr


def test_not_a_zip_fails_and_a_missing_bundle_is_a_usage_error(cli, tmp_path):
    proc = cli("bundle", "--check", EXAMPLE)
    assert proc.returncode == 1 and f"{EXAMPLE}: not a zip file" in proc.stderr
    missing = tmp_path / "nope.zip"
    proc = cli("bundle", "--check", missing)
    assert proc.returncode == USAGE_EXIT_CODE
    expected = f"autodl bundle: error: {missing}: no such bundle (a zip or an unpacked folder)"
    assert proc.stderr.strip() == expected
    assert proc.stdout == "" and list(tmp_path.iterdir()) == []
    proc = cli("bundle", "--check", tmp_path / "x.zip", EXAMPLE)
    assert proc.returncode == USAGE_EXIT_CODE and "--check takes a bundle alone" in proc.stderr
    proc = cli("bundle")
    assert proc.returncode == USAGE_EXIT_CODE and "--check BUNDLE" in proc.stderr
    assert "exit status" in cli("bundle", "--help").stdout


def test_a_scoring_program_of_its_own_is_not_judged(cli, exported, tmp_path):
    """score.py edited by hand: what it writes is not known, so the columns pass unchecked
    and the table says so; the rule judges only `autodl score`."""
    folder = tmp_path / "b"
    with zipfile.ZipFile(exported) as zf:
        zf.extractall(folder)
    for task in ("digits", "wine"):
        score = folder / "programs" / f"{task}-scoring" / "score.py"
        score.write_text(score.read_text() + "\n# our own additions\n")
    comp = yaml.safe_load((folder / "competition.yaml").read_text())
    comp["leaderboards"][0]["columns"][1]["key"] = "auc"
    (folder / "competition.yaml").write_text(yaml.safe_dump(comp, sort_keys=False))
    proc = cli("bundle", "--check", folder)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("not determined") == 6  # two tasks, four columns
    # The command `autodl score` itself is known without a score.py.
    meta = folder / "programs" / "wine-scoring" / "metadata.yaml"
    meta.write_text(yaml.safe_dump({"command": "autodl score --score_dir $output"}))
    proc = cli("bundle", "--check", folder)
    assert proc.returncode == 1 and "columns[1].key: 'auc'" in proc.stderr
    assert "tasks[1].scoring_program runs autodl score" in proc.stderr


def test_the_writable_keys_are_the_numbers_of_scores_json():
    record = ScoreRecord(alc=0.5, duration=1.0, nauc=0.4, accuracy=0.3, t0=60.0,
                         time_budget=20.0, start_time=1.0, nauc_bootstrap_mean=0.1,
                         nauc_bootstrap_std=0.1, alc_bootstrap_mean=0.1,
                         alc_bootstrap_std=0.1, score=0.5).to_dict()  # fmt: skip
    numbers = {
        k for k, v in record.items() if isinstance(v, (int, float)) and not isinstance(v, bool)
    }
    assert score_keys() == numbers
    assert {"alc", "nauc", "duration", "num_predictions"} <= score_keys()
    assert not {"status", "error", "finished", "task_name"} & score_keys()


def test_the_export_applies_the_same_rules(challenge, tmp_path, monkeypatch):
    """One rules implementation: the exporter checks its staging folder with check_bundle,
    so a leaderboard column autodl score does not write stops the export, zip unwritten."""
    from autodl.platforms.codabench import bundle

    monkeypatch.setattr(bundle, "COLUMNS", (*bundle.COLUMNS, ("auc", "AUC", "desc", 4)))
    out = tmp_path / "out" / "c.zip"
    with pytest.raises(BundleError) as err:
        bundle.build_bundle(challenge, out)
    assert "leaderboards[0].columns[4].key: 'auc' is not a number scores.json holds" in str(
        err.value
    )
    assert err.value.problems == [
        "leaderboards[0].columns[4].key: 'auc' is not a number scores.json holds: "
        "tasks[0].scoring_program runs autodl score, which writes "
        + ", ".join(sorted(score_keys()))
    ]
    assert list(out.parent.iterdir()) == []  # no zip, no staging folder left
