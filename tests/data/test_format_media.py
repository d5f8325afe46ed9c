"""File format with images of mixed kinds and sizes, audio and word texts; progress output."""

from __future__ import annotations

import io
import subprocess
import sys
import wave

import numpy as np
import pytest
from data_helpers import needs_av
from PIL import Image

from autodl.data import find_task, load
from autodl.data.formats import FormatError, convert
from autodl.data.formats._base import progress
from autodl.protocol import read_matrix


def _labels_csv(folder, rows, column="Labels"):
    lines = [f"FileName,{column}"] + [f"{name},{label}" for name, label in rows]
    (folder / "labels.csv").write_text("\n".join(lines) + "\n")


def test_images_of_varying_size_and_kind(tmp_path):
    src = tmp_path / "pics"
    src.mkdir()
    rng = np.random.default_rng(1)
    pixels, rows = {}, []
    for i in range(12):
        h, w = 6 + i % 3, 5 + i % 4
        arr = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        name = f"im{i}.{['png', 'bmp', 'gif'][i % 3]}"
        img = Image.fromarray(arr)
        if name.endswith(".gif"):  # GIF is palette-based: compare with what it stores
            img = img.quantize(16)
            arr = np.asarray(img.convert("RGB"))
        img.save(src / name)
        pixels[name] = arr
        rows.append((name, i % 2))
    _labels_csv(src, rows)
    task = convert(src, tmp_path / "out", test_size=4)
    train = load(task, split="train")
    meta = train.metadata
    assert meta.is_compressed() and tuple(meta.get_matrix_size()) == (-1, -1)
    test_y = read_matrix(find_task(task).solution_path)
    found = 0
    for (x, y), truth in zip(
        list(train) + list(load(task, split="test")),
        [None] * len(train) + list(test_y),
        strict=True,
    ):
        y = y if truth is None else truth
        matches = [
            n
            for n, a in pixels.items()
            if a.shape == x.shape[1:] and np.allclose(x[0], a / 255.0, atol=1e-6)
        ]
        assert len(matches) == 1
        assert y.argmax() == int(matches[0][2:].split(".")[0]) % 2
        found += 1
    assert found == 12


@needs_av
def test_wav_files_become_dense_waveforms(tmp_path):
    src = tmp_path / "sounds"
    src.mkdir()
    rng = np.random.default_rng(2)
    clips, rows = {}, []
    for i in range(10):
        samples = rng.integers(-20000, 20000, 400 + 10 * i, dtype=np.int16)
        with wave.open(str(src / f"s{i}.wav"), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(8000)
            w.writeframes(samples.tobytes())
        clips[len(samples)] = (samples, i % 2)
        rows.append((f"s{i}.wav", i % 2))
    _labels_csv(src, rows)
    task = convert(src, tmp_path / "out")
    assert "sample_rate : 8000" in (task / f"{task.name}_public.info").read_text()
    train = load(task, split="train")
    assert tuple(train.metadata.get_tensor_shape()) == (-1, 1, 1, 1)
    for x, y in train:
        samples, label = clips[len(x)]
        np.testing.assert_allclose(x.reshape(-1), samples / 32768.0, atol=1e-6)
        assert y.argmax() == label


def test_word_texts_get_a_vocabulary(tmp_path):
    src = tmp_path / "texts"
    src.mkdir()
    texts = ["good fun film", "bad dull film", "fun fun", "dull"] * 3
    for i, t in enumerate(texts):
        (src / f"t{i}.txt").write_text(t)
    _labels_csv(src, [(f"t{i}.txt", i % 2) for i in range(len(texts))])
    task = convert(src, tmp_path / "out")
    ds = load(task, split="train")
    vocab = ds.metadata.get_channel_to_index_map()
    words = {i: w for w, i in vocab.items()}
    assert vocab["fun"] == 0  # the most frequent token first
    for x, _ in ds:
        assert " ".join(words[int(i)] for i in x.reshape(-1)) in texts


@needs_av
def test_unreadable_video_and_audio_name_the_file(tmp_path):
    for ext, what in ((".avi", "video"), (".wav", "audio file")):
        src = tmp_path / ext[1:]
        src.mkdir()
        (src / f"bad{ext}").write_bytes(b"RIFF" + bytes(range(256)) * 4)
        _labels_csv(
            src,
            [
                (f"bad{ext}", 0),
            ],
        )
        with pytest.raises(FormatError, match=f"not a readable {what}") as info:
            convert(src, tmp_path / "out")
        assert str(src / f"bad{ext}") in str(info.value)
        assert "labels.csv:2" in str(info.value)


@pytest.mark.parametrize("ext, kind", [(".avi", "video"), (".wav", "audio")])
def test_without_pyav_media_files_stop_with_one_line(tmp_path, ext, kind):
    src = tmp_path / "src"
    src.mkdir()
    (src / f"clip{ext}").write_bytes(b"RIFF" + bytes(64))
    _labels_csv(src, [(f"clip{ext}", 0)])
    # an interpreter where `import av` fails, as where the extra is not installed
    code = "import sys; sys.modules['av'] = None; from autodl.cli import main; sys.exit(main())"
    proc = subprocess.run(
        [sys.executable, "-c", code, "format", str(src), "-o", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2, proc.stderr
    errors = [line for line in proc.stderr.splitlines() if "error" in line]
    assert errors == [
        f"autodl format: error: {kind} files need PyAV: pip install 'autodl[media]'"
    ], proc.stderr
    assert "Traceback" not in proc.stderr


class _Terminal(io.StringIO):
    def __init__(self, tty: bool):
        super().__init__()
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


def test_progress_only_on_a_terminal():
    tty, pipe = _Terminal(True), _Terminal(False)
    assert list(progress(range(5), 5, "images", tty)) == list(range(5))
    assert list(progress(range(5), 5, "images", pipe)) == list(range(5))
    assert "images: 5/5 (100%)" in tty.getvalue()
    assert pipe.getvalue() == ""
