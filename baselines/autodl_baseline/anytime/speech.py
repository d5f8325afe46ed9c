"""Speech: log-mel spectrograms, their statistics for the linear model, a CNN on them."""

from __future__ import annotations

import numpy as np

from .vision import _cnn

SAMPLE_RATE = 16000  # AutoDL speech tasks are 16 kHz; only the mel spacing depends on it
MAX_HOP = 256  # 16 ms at 16 kHz
MIN_HOP = 16
N_MELS = 40
MAX_FRAMES = 512


def mel_filters(n_mels: int, n_fft: int, sr: int = SAMPLE_RATE) -> np.ndarray:
    """Triangular filters evenly spaced on the mel scale, shape (n_fft//2+1, n_mels)."""

    def to_mel(f):
        return 2595.0 * np.log10(1.0 + f / 700.0)

    def to_hz(m):
        return 700.0 * (10 ** (m / 2595.0) - 1.0)

    freqs = np.linspace(0, sr / 2, n_fft // 2 + 1)
    edges = to_hz(np.linspace(to_mel(0.0), to_mel(sr / 2), n_mels + 2))
    lower, center, upper = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    rise = (freqs[None] - lower) / (center - lower)
    fall = (upper - freqs[None]) / (upper - center)
    return np.maximum(0, np.minimum(rise, fall)).T.astype(np.float32)


class SpeechSpec:
    batch_size = 32
    lr = 2e-3

    def __init__(self, metadata, example_shape, cuda: bool):
        import torch

        # Short clips get a short hop, so that even they have some 60 frames.
        length = max(example_shape[0], 1)
        self.hop = int(np.clip(2 ** np.floor(np.log2(max(length / 60, 1))), MIN_HOP, MAX_HOP))
        self.n_fft = 2 * self.hop
        self.n_mels = min(N_MELS, self.n_fft // 4)
        self.filters = torch.from_numpy(mel_filters(self.n_mels, self.n_fft))
        self.window = torch.hann_window(self.n_fft)
        self.length = None
        self.mean = None
        self.std = None

    def prepare(self, example: np.ndarray) -> np.ndarray:
        """(T, 1, 1, 1) waveform -> (frames, n_mels) log-mel, at most MAX_FRAMES frames."""
        import torch

        wave = torch.from_numpy(example.reshape(-1)[: self.hop * MAX_FRAMES + self.n_fft].copy())
        if wave.numel() < self.n_fft:
            wave = torch.nn.functional.pad(wave, (0, self.n_fft - wave.numel()))
        spec = (
            torch.stft(
                wave, self.n_fft, self.hop, window=self.window, center=False, return_complex=True
            )
            .abs()
            .pow(2)
            .T
        )
        return torch.log(spec @ self.filters + 1e-6).numpy().astype(np.float16)

    def pooled(self, items) -> np.ndarray:
        feats = [
            np.concatenate([s.mean(0), s.std(0), s.max(0)])
            for s in (i.astype(np.float32) for i in items)
        ]
        return np.stack(feats)

    def stack(self, items) -> np.ndarray:
        """(n, 1, n_mels, L): each spectrogram tiled or cut to one length L."""
        if self.length is None:
            lengths = [len(i) for i in items]
            self.length = int(np.clip(np.percentile(lengths, 90), 16, MAX_FRAMES))
        out = np.empty((len(items), 1, self.n_mels, self.length), np.float32)
        for k, spec in enumerate(items):
            reps = -(-self.length // len(spec))
            out[k, 0] = np.tile(spec, (reps, 1))[: self.length].T
        if self.mean is None:
            self.mean = out.mean(axis=(0, 3), keepdims=True)
            self.std = out.std(axis=(0, 3), keepdims=True) + 1e-6
        return (out - self.mean) / self.std

    def batch(self, data, idx, train: bool, rng):
        import torch

        x = data[idx]
        if train:
            x = x.copy()
            for k in range(len(x)):
                x[k] = np.roll(x[k], rng.integers(0, self.length), axis=-1)
                f0 = rng.integers(0, max(1, self.n_mels - 6))
                x[k, :, f0 : f0 + rng.integers(0, 6)] = 0.0  # frequency mask
                t0 = rng.integers(0, max(1, self.length - self.length // 8))
                x[k, :, :, t0 : t0 + rng.integers(0, self.length // 8 + 1)] = 0.0  # time mask
        return torch.from_numpy(np.ascontiguousarray(x))

    def make_net(self, n_outputs: int):
        return _cnn(1, n_outputs, dims=2)
