"""Images and videos: capped resolution, pooled pixels for the linear model, small CNNs."""

from __future__ import annotations

import numpy as np


def _target_size(rows: int, cols: int, cap: int, floor: int) -> tuple[int, int]:
    if rows <= 0 or cols <= 0:
        return cap, cap
    side = max(rows, cols)
    # Large images come down to the cap; tiny ones go up to the floor so that the CNN's
    # pooling stages still have pixels to work on.
    scale = cap / side if side > cap else (floor / side if side < floor else 1.0)
    return max(1, round(rows * scale)), max(1, round(cols * scale))


def _resize(frames: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """(T, H, W, C) -> (T, C, h, w), area-averaged down or bilinear up."""
    import torch
    import torch.nn.functional as F

    x = torch.from_numpy(np.ascontiguousarray(frames.transpose(0, 3, 1, 2)))
    if tuple(x.shape[-2:]) == size:
        return x.numpy()
    down = x.shape[-2] >= size[0] and x.shape[-1] >= size[1]
    x = (
        F.interpolate(x, size=size, mode="area")
        if down
        else F.interpolate(x, size=size, mode="bilinear", align_corners=False)
    )
    return x.numpy()


def _match_channels(frames: np.ndarray, channels: int) -> np.ndarray:
    if frames.shape[-1] == channels:
        return frames
    gray = frames.mean(axis=-1, keepdims=True)
    return np.repeat(gray, channels, axis=-1)


def _shift(x: np.ndarray, rng: np.random.Generator, flip: bool) -> np.ndarray:
    """Random translation by up to 1/8 of the side (reflect-padded), random mirror."""
    h, w = x.shape[-2:]
    ph, pw = max(1, h // 8), max(1, w // 8)
    pad = [(0, 0)] * (x.ndim - 2) + [(ph, ph), (pw, pw)]
    padded = np.pad(x, pad, mode="reflect" if min(h, w) > max(ph, pw) else "edge")
    out = np.empty_like(x)
    for i in range(len(x)):
        dy, dx = rng.integers(0, 2 * ph + 1), rng.integers(0, 2 * pw + 1)
        sample = padded[i, ..., dy : dy + h, dx : dx + w]
        out[i] = sample[..., ::-1] if flip and rng.random() < 0.5 else sample
    return out


class ImageSpec:
    """One frame per example, resized so its longer side is at most ``cap``."""

    batch_size = 64
    lr = 3e-3

    def __init__(self, metadata, example_shape, cuda: bool):
        rows, cols = example_shape[1], example_shape[2]
        try:
            r, c = metadata.get_matrix_size(0)
            if r > 0 and c > 0:
                rows, cols = r, c
            else:
                rows, cols = -1, -1
        except Exception:
            pass
        self.size = _target_size(rows, cols, cap=64 if cuda else 32, floor=16)
        self.channels = example_shape[3]
        self.flip = self.channels == 3
        self.mean = None
        self.std = None

    def prepare(self, example: np.ndarray) -> np.ndarray:
        frame = _match_channels(example[:1], self.channels)
        return _resize(frame, self.size)[0].astype(np.float16)

    def stack(self, items) -> np.ndarray:
        data = np.stack(items).astype(np.float32)
        if self.mean is None:
            self.mean = data.mean(axis=(0, 2, 3), keepdims=True)
            self.std = data.std(axis=(0, 2, 3), keepdims=True) + 1e-6
        return (data - self.mean) / self.std

    def pooled(self, items) -> np.ndarray:
        """Pixels averaged down to at most 8x8 per channel, and each channel's statistics."""
        import torch
        import torch.nn.functional as F

        x = torch.from_numpy(np.stack(items).astype(np.float32))
        side = (min(8, x.shape[-2]), min(8, x.shape[-1]))
        flat = x.flatten(2)
        stats = [flat.mean(2), flat.std(2), flat.amin(2), flat.amax(2)]
        return torch.cat([F.adaptive_avg_pool2d(x, side).flatten(1), *stats], 1).numpy()

    def batch(self, data, idx, train: bool, rng):
        import torch

        x = data[idx]
        if train:
            x = _shift(x, rng, self.flip)
        return torch.from_numpy(np.ascontiguousarray(x))

    def make_net(self, n_outputs: int):
        return _cnn(self.channels, n_outputs, dims=2)


class VideoSpec(ImageSpec):
    """``frames`` frames sampled evenly over time, each resized like an image."""

    batch_size = 32
    frames = 8

    def __init__(self, metadata, example_shape, cuda: bool):
        super().__init__(metadata, example_shape, cuda)
        self.size = _target_size(*self.size, cap=48 if cuda else 32, floor=16)
        self.flip = True

    def prepare(self, example: np.ndarray) -> np.ndarray:
        t = example.shape[0]
        pick = np.linspace(0, t - 1, self.frames).round().astype(int)
        frames = _match_channels(example[pick], self.channels)
        return _resize(frames, self.size).transpose(1, 0, 2, 3).astype(np.float16)

    def stack(self, items) -> np.ndarray:
        data = np.stack(items).astype(np.float32)
        if self.mean is None:
            self.mean = data.mean(axis=(0, 2, 3, 4), keepdims=True)
            self.std = data.std(axis=(0, 2, 3, 4), keepdims=True) + 1e-6
        return (data - self.mean) / self.std

    def pooled(self, items) -> np.ndarray:
        """The mean frame at 8x8, and the spread over time and motion of 4x4 frames."""
        import torch
        import torch.nn.functional as F

        x = torch.from_numpy(np.stack(items).astype(np.float32))  # (n, C, T, h, w)
        h, w = x.shape[3:]
        mean = F.adaptive_avg_pool2d(x.mean(2), (min(8, h), min(8, w))).flatten(1)
        small = F.adaptive_avg_pool3d(x, (x.shape[2], min(4, h), min(4, w)))
        motion = (small[:, :, 1:] - small[:, :, :-1]).abs().mean(2).flatten(1)
        return torch.cat([mean, small.std(2).flatten(1), motion], 1).numpy()

    def make_net(self, n_outputs: int):
        return _cnn(self.channels, n_outputs, dims=3)


def _cnn(channels: int, n_outputs: int, dims: int, widths=(32, 64, 128, 128)):
    """Conv-BN-ReLU stages with pooling, then global average+max pooling and a linear head.

    ``dims=3`` makes each stage a (2+1)D block: a 1x3x3 spatial convolution followed by
    a 3x1x1 temporal one; time is pooled from the third stage on.
    """
    import torch
    from torch import nn

    layers: list[nn.Module] = []
    cin = channels
    for i, cout in enumerate(widths):
        if dims == 2:
            layers += [
                nn.Conv2d(cin, cout, 3, padding=1, bias=False),
                nn.BatchNorm2d(cout),
                nn.ReLU(inplace=True),
            ]
            if i < len(widths) - 1:
                layers.append(nn.MaxPool2d(2, ceil_mode=True))
        else:
            layers += [
                nn.Conv3d(cin, cout, (1, 3, 3), padding=(0, 1, 1), bias=False),
                nn.BatchNorm3d(cout),
                nn.ReLU(inplace=True),
                nn.Conv3d(cout, cout, (3, 1, 1), padding=(1, 0, 0), bias=False),
                nn.BatchNorm3d(cout),
                nn.ReLU(inplace=True),
            ]
            if i < len(widths) - 1:
                layers.append(nn.MaxPool3d((2 if i >= 1 else 1, 2, 2), ceil_mode=True))
        cin = cout

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.Sequential(*layers)
            self.drop = nn.Dropout(0.2)
            self.head = nn.Linear(2 * cin, n_outputs)

        def forward(self, x):
            x = self.body(x).flatten(2)
            x = torch.cat([x.mean(2), x.amax(2)], 1)
            return self.head(self.drop(x))

    return Net()
