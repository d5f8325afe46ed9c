"""Matrix (AutoML) and AutoNLP sources: converted once per module, compared with the files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from autodl.data import find_task, load
from autodl.data.formats import FormatError, convert, detect
from autodl.data.formats.text import build_vocabulary, tokenize
from autodl.protocol import read_matrix


@pytest.fixture(scope="module")
def iris_src(shared_data) -> Path:
    return shared_data / "raw" / "matrix" / "iris-AutoML"


@pytest.fixture(scope="module")
def iris(iris_src, tmp_path_factory):
    return convert(iris_src, tmp_path_factory.mktemp("iris"))


def test_iris_keeps_its_own_split(iris_src, iris):
    assert detect(iris_src) == "matrix"
    assert iris.name == "iris"
    train_x = np.loadtxt(iris_src / "iris_train.data", dtype=np.float32)
    train_y = np.loadtxt(iris_src / "iris_train.solution", dtype=np.float32)
    test_x = np.loadtxt(iris_src / "iris_test.data", dtype=np.float32)
    test_y = np.loadtxt(iris_src / "iris_test.solution", dtype=np.float32)

    train = load(iris, split="train")
    x, y = train.to_numpy()
    assert x.shape == (len(train_x), 1, 1, 4, 1)
    np.testing.assert_array_equal(x.reshape(len(x), 4), train_x)
    np.testing.assert_array_equal(y, train_y)

    test = load(iris, split="test")
    x, y = test.to_numpy()
    np.testing.assert_array_equal(x.reshape(len(x), 4), test_x)
    assert not y.any()
    np.testing.assert_array_equal(read_matrix(find_task(iris).solution_path), test_y)

    meta = train.metadata
    features = (iris_src / "iris_feat.name").read_text().split()
    assert meta.get_feature_to_index_map() == {f: i for i, f in enumerate(features)}
    assert meta.get_label_to_index_map() == {"setosa": 0, "versicolor": 1, "virginica": 2}


def test_matrix_errors_name_file_and_line(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "toy_train.data").write_text("1 2\n3 4\n5 x\n")
    (src / "toy_train.solution").write_text("0\n1\n1\n")
    with pytest.raises(FormatError, match=r"toy_train\.data:3"):
        convert(src, tmp_path / "out")
    (src / "toy_train.data").write_text("1 2\n3 4\n5 6\n7 8\n")
    with pytest.raises(FormatError, match="3 label lines for 4 examples"):
        convert(src, tmp_path / "out")
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_matrix_sparse_and_single_column_binary(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    rows = ["1:0.5 3:2", "2:1", "1:1 2:1 3:1", "3:4"] * 5
    (src / "sp_train.data").write_text("\n".join(rows) + "\n")
    (src / "sp_train.solution").write_text("\n".join(["0", "1"] * 10) + "\n")
    task = convert(src, tmp_path / "out")
    x, y = load(task, split="train").to_numpy()
    assert y.shape[1] == 2 and np.all(y.sum(axis=1) == 1)
    assert len(x) == 16 and x.shape[1:] == (1, 1, 3, 1)


# ------------------------------------------------------------------ AutoNLP O1


@pytest.fixture(scope="module")
def o1_src(shared_data) -> Path:
    return shared_data / "raw" / "nlp" / "O1"


@pytest.fixture(scope="module")
def o1(o1_src, tmp_path_factory):
    return convert(o1_src, tmp_path_factory.mktemp("o1"))


def test_o1_texts_decode_back_to_their_tokens(o1_src, o1):
    assert detect(o1_src) == "nlp"
    data = o1_src / "O1.data"
    meta_json = json.loads((data / "meta.json").read_text())
    train_lines = (data / "train.data").read_text(encoding="utf-8").split("\n")[:-1]
    test_lines = (data / "test.data").read_text(encoding="utf-8").split("\n")[:-1]

    train = load(o1, split="train")
    test = load(o1, split="test")
    assert (len(train), len(test)) == (meta_json["train_num"], meta_json["test_num"])
    meta = train.metadata
    assert meta.get_output_size() == 2 and meta.is_sparse()
    vocab = meta.get_channel_to_index_map()
    assert sorted(vocab.values()) == list(range(len(vocab)))
    words = {i: w for w, i in vocab.items()}
    for k in (0, 1, 2, 1000, len(train_lines) - 1):
        example, _ = train[k]
        assert example.shape[1:] == (1, 1, 1)
        assert [words[int(i)] for i in example.reshape(-1)] == train_lines[k].split()
    example, labels = test[7]
    assert [words[int(i)] for i in example.reshape(-1)] == test_lines[7].split()
    assert not labels.any()

    train_y = np.loadtxt(data / "train.solution", dtype=np.float32)
    y = np.stack([lab for _, lab in train])
    np.testing.assert_array_equal(y, train_y)
    np.testing.assert_array_equal(
        read_matrix(find_task(o1).solution_path), np.loadtxt(o1_src / "O1.solution")
    )


def test_chinese_is_cut_into_characters(tmp_path):
    data = tmp_path / "zh" / "zh.data"
    data.mkdir(parents=True)
    texts = ["这部电影很好看", "太无聊了 boring", "演员很好", "剧情很差"] * 5
    (data / "train.data").write_text("\n".join(texts) + "\n", encoding="utf-8")
    (data / "train.solution").write_text("\n".join(["0 1", "1 0", "0 1", "1 0"] * 5) + "\n")
    (data / "meta.json").write_text(json.dumps({"class_num": 2, "language": "ZH"}))
    task = convert(tmp_path / "zh", tmp_path / "out")
    ds = load(task, split="train")
    vocab = ds.metadata.get_channel_to_index_map()
    assert "电" in vocab and "boring" in vocab and "这部" not in vocab
    words = {i: w for w, i in vocab.items()}
    decoded = ["".join(words[int(i)] for i in ex.reshape(-1)) for ex, _ in ds]
    assert set(decoded) <= {t.replace(" ", "") for t in texts}


def test_tokenizer_and_vocabulary():
    assert tokenize("我爱AutoDL 2019!", "ZH") == ["我", "爱", "AutoDL", "2019", "!"]
    assert tokenize("wo n't sit , still") == ["wo", "n't", "sit", ",", "still"]
    # most frequent first; ties keep first-seen order
    assert build_vocabulary([["b", "a"], ["a", "c"]]) == {"a": 0, "b": 1, "c": 2}


def test_solution_files_one_reader_for_both_formats(tmp_path):
    from autodl.data.formats._base import read_solution

    path = tmp_path / "t.solution"
    path.write_text("0\n2\n\n1\n")  # class indices; a blank line is skipped
    y = read_solution(path)
    np.testing.assert_array_equal(y, np.eye(3, dtype=np.float32)[[0, 2, 1]])
    path.write_text("0\n1\n")  # a 0/1 column: two classes
    assert read_solution(path).shape == (2, 2)
    path.write_text("0 1\n1\n0.2 0.8\n")  # scores and indices, class count known
    np.testing.assert_allclose(read_solution(path, 2), [[0, 1], [0, 1], [0.2, 0.8]])
    path.write_text("1\n")  # one class: the value is its score
    np.testing.assert_array_equal(read_solution(path, 1), [[1.0]])
    for text, num_classes, message in [
        ("0\n1.5\n", None, r"t\.solution:2: label 1.5 is not a class index 0\.\.1"),
        ("0 1\n1 0 0\n", None, r"t\.solution:2: 3 values, expected 2"),
        ("0\n\n3\n", 3, r"t\.solution:3: label 3 is not a class index 0\.\.2"),
        ("0 x\n", 2, r"t\.solution:1: not numbers"),
    ]:
        path.write_text(text)
        with pytest.raises(FormatError, match=message):
            read_solution(path, num_classes)
    path.write_text("0\n1\n")
    with pytest.raises(FormatError, match=r"t\.solution: 2 label lines for 3 texts"):
        read_solution(path, 2, 3, "texts")
