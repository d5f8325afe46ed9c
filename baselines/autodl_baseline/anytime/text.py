"""Text: token counts for the linear model, a fastText-style network on token sequences."""

from __future__ import annotations

import numpy as np

MAX_TOKENS = 2000  # kept per document
TRAIN_WINDOW = 600  # tokens the network sees per document in a step
UNIGRAMS = 50000
BIGRAMS = 1 << 16


class TextSpec:
    """Token ids from ``(nnz, 1, 1, 1)`` examples (ids as float32, in order)."""

    batch_size = 64
    lr = 5e-3
    amp = False  # a tiny network with sparse embedding gradients: nothing to gain

    def __init__(self, metadata, example_shape, cuda: bool):
        try:
            vocab = len(metadata.get_channel_to_index_map() or {})
        except Exception:
            vocab = 0
        self.columns = vocab if vocab > 0 else 1 << 17
        self.unigrams = min(self.columns, UNIGRAMS)

    def prepare(self, example: np.ndarray) -> np.ndarray:
        return example.reshape(-1)[:MAX_TOKENS].astype(np.int64)

    def pooled(self, items):
        """Bag of tokens: a sparse (n, vocabulary) count matrix."""
        from scipy.sparse import csr_matrix

        indptr = np.cumsum([0] + [len(i) for i in items])
        indices = np.concatenate(items) % self.columns if items else np.zeros(0, np.int64)
        data = np.ones(len(indices), np.float32)
        counts = csr_matrix((data, indices, indptr), shape=(len(items), self.columns))
        counts.sum_duplicates()
        return counts

    def stack(self, items):
        return items

    def batch(self, data, idx, train: bool, rng):
        """(B, L) bucket ids: 0 pads, then unigrams, then hashed bigrams."""
        import torch

        docs = []
        for i in idx:
            ids = data[i]
            if train and len(ids) > TRAIN_WINDOW:
                start = rng.integers(0, len(ids) - TRAIN_WINDOW + 1)
                ids = ids[start : start + TRAIN_WINDOW]
            uni = ids % self.unigrams + 1
            bi = (ids[:-1] * 1000003 + ids[1:]) % BIGRAMS + self.unigrams + 1
            docs.append(np.concatenate([uni, bi]))
        width = max(1, max(len(d) for d in docs))
        out = np.zeros((len(docs), width), np.int64)
        for k, d in enumerate(docs):
            out[k, : len(d)] = d
        return torch.from_numpy(out)

    def make_net(self, n_outputs: int):
        import torch
        from torch import nn

        buckets = self.unigrams + BIGRAMS + 1

        class FastText(nn.Module):
            """Mean and max of token and bigram embeddings, one hidden layer."""

            def __init__(self):
                super().__init__()
                # Sparse gradients: a step touches only the rows of the batch's tokens.
                self.embed = nn.Embedding(buckets, 64, padding_idx=0, sparse=True)
                self.head = nn.Sequential(
                    nn.Dropout(0.3), nn.Linear(128, 128), nn.ReLU(), nn.Linear(128, n_outputs)
                )

            def forward(self, x):
                mask = (x > 0).unsqueeze(-1).float()
                e = self.embed(x)
                mean = (e * mask).sum(1) / mask.sum(1).clamp(min=1.0)
                peak = (e - 1e4 * (1 - mask)).amax(1)
                return self.head(torch.cat([mean, peak], 1))

        return FastText()

    def optimizers(self, net) -> list:
        """SparseAdam for the embedding table, AdamW for the rest."""
        import torch

        dense = [p for name, p in net.named_parameters() if not name.startswith("embed.")]
        return [
            torch.optim.SparseAdam(list(net.embed.parameters()), lr=self.lr),
            torch.optim.AdamW(dense, lr=self.lr, weight_decay=1e-4),
        ]
