"""NumPy and CSV sources, and `autodl format` as a real subprocess."""

from __future__ import annotations

import numpy as np
import pytest

from autodl.data import find_task, load
from autodl.data.formats import FormatError, convert, detect
from autodl.protocol import read_matrix


def test_npz_with_split_images(tmp_path):
    rng = np.random.default_rng(0)
    x_train = rng.integers(0, 256, (30, 5, 6, 3), dtype=np.uint8)
    x_test = rng.integers(0, 256, (10, 5, 6, 3), dtype=np.uint8)
    y_train, y_test = np.arange(30) % 3, np.arange(10) % 3
    src = tmp_path / "toy.npz"
    np.savez(src, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    assert detect(src) == "numpy"
    task = convert(src, tmp_path / "out")
    x, y = load(task, split="train").to_numpy()
    assert x.shape == (30, 1, 5, 6, 3)
    np.testing.assert_allclose(x[:, 0], x_train / 255.0, atol=1e-6)
    np.testing.assert_array_equal(y.argmax(1), y_train)
    x, _ = load(task, split="test").to_numpy()
    np.testing.assert_allclose(x[:, 0], x_test / 255.0, atol=1e-6)
    np.testing.assert_array_equal(read_matrix(find_task(task).solution_path).argmax(1), y_test)


def test_npy_folder_is_split_stratified(tmp_path):
    src = tmp_path / "vals"
    src.mkdir()
    x = np.arange(200, dtype=np.float32).reshape(50, 4)
    y = np.array(["cat", "dog"] * 25)
    np.save(src / "x.npy", x)
    np.save(src / "y.npy", y)
    task = convert(src, tmp_path / "out", test_size=0.2, seed=3)
    train = load(task, split="train")
    xt, yt = train.to_numpy()
    assert len(xt) == 40 and xt.shape[1:] == (1, 1, 4, 1)
    assert train.metadata.get_label_to_index_map() == {"cat": 0, "dog": 1}
    solution = read_matrix(find_task(task).solution_path)
    np.testing.assert_array_equal(solution.sum(0), [5, 5])
    # every row once, with its label
    xs, _ = load(task, split="test").to_numpy()
    rows = np.concatenate([xt.reshape(-1, 4), xs.reshape(-1, 4)])
    assert sorted(rows[:, 0].tolist()) == sorted(x[:, 0].tolist())
    for row, lab in zip(xt.reshape(-1, 4), yt, strict=True):
        assert y[int(row[0]) // 4] == ["cat", "dog"][int(lab.argmax())]


def test_csv_table(tmp_path):
    src = tmp_path / "table.csv"
    lines = ["a,b,species,c"] + [f"{i},{i * 2},{'xy'[i % 2]},{i / 10}" for i in range(20)]
    src.write_text("\n".join(lines) + "\n")
    task = convert(src, tmp_path / "out")
    meta = load(task, split="train").metadata
    assert meta.get_feature_to_index_map() == {"a": 0, "b": 1, "c": 2}
    assert meta.get_label_to_index_map() == {"x": 0, "y": 1}
    x, y = load(task, split="train").to_numpy()
    for row, lab in zip(x.reshape(-1, 3), y, strict=True):
        i = int(row[0])
        assert row[1] == 2 * i and row[2] == np.float32(i / 10)
        assert lab.argmax() == i % 2


def test_csv_bad_cell_names_line_and_column(tmp_path):
    src = tmp_path / "table.csv"
    src.write_text("a,label\n1,x\n2,y\noops,x\n")
    with pytest.raises(FormatError, match=r"table\.csv:4: column 'a'"):
        convert(src, tmp_path / "out")


def test_cli_converts_and_reports_errors(shared_data, tmp_path, cli):
    iris = shared_data / "raw" / "matrix" / "iris-AutoML"
    proc = cli("format", iris, "-o", tmp_path / "out", check=True)
    task_dir = tmp_path / "out" / "iris"
    assert proc.stdout.strip() == str(task_dir)
    assert len(load(task_dir, split="test")) == 45

    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "labels.csv").write_text("FileName,Labels\nmissing.png,0\n")
    proc = cli("format", bad, "-o", tmp_path / "out2")
    assert proc.returncode == 2
    assert f"{bad / 'labels.csv'}:2: missing.png does not exist" in proc.stderr
    assert proc.stderr.count("\n") == 1, "one clear message, no traceback"
    assert not (tmp_path / "out2").exists() or not any((tmp_path / "out2").iterdir())
