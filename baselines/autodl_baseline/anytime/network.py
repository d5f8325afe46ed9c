"""The neural candidate: a domain's PyTorch network trained in time slices."""

from __future__ import annotations

import time

import numpy as np


class NetworkCandidate:
    """Trains ``spec.make_net`` a time slice at a time; any-time and budget-aware.

    The spec supplies the network, how items are stacked once per data size and how a
    batch is cut from them (with augmentation when training). Step time is measured, so
    a slice ends before its deadline. Single-label tasks sample class-balanced batches
    and use softmax; multi-label tasks sample uniformly and use sigmoids on soft targets.
    """

    name = "network"

    def __init__(
        self,
        spec,
        n_outputs: int,
        multilabel: bool,
        seed: int,
        device: str,
        max_epochs: float = 200.0,
    ):
        import torch

        self.spec = spec
        self.n_outputs = n_outputs
        self.multilabel = multilabel
        self.device = torch.device(device)
        self.amp = self.device.type == "cuda" and getattr(spec, "amp", True)
        self.seed = seed
        self.rng = np.random.default_rng(seed)
        self.max_epochs = max_epochs
        self.net = None
        self.opts: list = []
        self.scaler = None
        self.epochs = 0.0
        self.steps = 0
        self.step_seconds = 0.0
        self.version = 0
        self.done = False
        self._stacked: dict[int, tuple[int, object]] = {}

    @property
    def trained(self) -> bool:
        return self.steps > 0

    def _stack(self, items):
        # The engine keeps one list per split and only appends to it: (id, len) is a key.
        cached = self._stacked.get(id(items))
        if cached is None or cached[0] != len(items):
            cached = (len(items), self.spec.stack(items))
            self._stacked[id(items)] = cached
        return cached[1]

    def _build(self, data) -> None:
        import torch

        torch.manual_seed(self.seed)
        self.net = self.spec.make_net(self.n_outputs).to(self.device)
        if hasattr(self.spec, "optimizers"):
            self.opts = self.spec.optimizers(self.net)
        else:
            self.opts = [
                torch.optim.AdamW(self.net.parameters(), lr=self.spec.lr, weight_decay=1e-4)
            ]
        if self.amp:
            self.scaler = torch.amp.GradScaler("cuda")

    def update(self, items, labels: np.ndarray, deadline: float, complete: bool = False) -> None:
        import torch

        # on CUDA: pinned host memory and non-blocking copies; on the CPU: a no-op
        from autodl.data.torch import to_device

        data = self._stack(items)
        n = len(labels)
        if self.net is None:
            self._build(data)
        if self.multilabel:
            weights = None
            targets = torch.from_numpy(np.clip(labels, 0, 1).astype(np.float32))
        else:
            classes = labels.argmax(axis=1)
            counts = np.bincount(classes, minlength=self.n_outputs).astype(float)
            weights = 1.0 / counts[classes]
            weights /= weights.sum()
            targets = torch.from_numpy(classes.astype(np.int64))
        batch_size = min(self.spec.batch_size, n)
        steps_before = self.steps
        self.net.train()
        while True:
            now = time.monotonic()
            # The first step pays one-off costs (kernel selection, allocations), so it
            # neither waits for a known step time nor sets it.
            if self.steps >= 2 and now + 1.5 * self.step_seconds > deadline:
                break
            if self.steps < 2 and now > deadline:
                break
            idx = self.rng.choice(n, size=batch_size, replace=weights is not None, p=weights)
            x = to_device(self.spec.batch(data, idx, train=True, rng=self.rng), self.device)
            y = to_device(targets[idx], self.device)
            lr = self.spec.lr / (1.0 + self.epochs / 15.0)
            for opt in self.opts:
                for group in opt.param_groups:
                    group["lr"] = lr
            with torch.autocast(self.device.type, dtype=torch.float16, enabled=self.amp):
                logits = self.net(x).float()
            if self.multilabel:
                loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, y)
            else:
                loss = torch.nn.functional.cross_entropy(logits, y, label_smoothing=0.05)
            for opt in self.opts:
                opt.zero_grad(set_to_none=True)
            if self.scaler is not None:
                self.scaler.scale(loss).backward()
                for opt in self.opts:
                    self.scaler.step(opt)
                self.scaler.update()
            else:
                loss.backward()
                for opt in self.opts:
                    opt.step()
            took = time.monotonic() - now
            if self.steps == 1:
                self.step_seconds = took
            elif self.steps > 1:
                self.step_seconds = 0.8 * self.step_seconds + 0.2 * took
            self.steps += 1
            self.epochs += batch_size / n
        if self.steps > steps_before:
            self.version += 1
        if complete and self.epochs >= self.max_epochs:
            self.done = True

    def predict(self, items) -> np.ndarray:
        import torch

        from autodl.data.torch import to_device

        data = self._stack(items)
        n = len(items)
        self.net.eval()
        out = []
        with torch.no_grad():
            for start in range(0, n, 256):
                idx = np.arange(start, min(n, start + 256))
                x = to_device(self.spec.batch(data, idx, train=False, rng=None), self.device)
                with torch.autocast(self.device.type, dtype=torch.float16, enabled=self.amp):
                    logits = self.net(x).float()
                proba = torch.sigmoid(logits) if self.multilabel else torch.softmax(logits, 1)
                out.append(proba.cpu().numpy())
        self.net.train()
        return np.concatenate(out).astype(np.float32)
