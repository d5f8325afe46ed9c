"""The two participant APIs, detected once from what the submission's ``Model`` defines.

- AutoDL API (the 2019 challenge's): ``train(dataset, remaining_time_budget)`` and
  ``test(dataset, remaining_time_budget)``; ``dataset`` is a TF2 ``tf.data.Dataset`` of
  ``(example, labels)`` pairs, as the reference ingestion gave it.
- native API: ``fit(dataset, remaining_time_budget)`` and
  ``predict(dataset, remaining_time_budget)``; ``dataset`` is the ``autodl.data`` dataset
  (numpy pairs, ``.to_numpy()``, ``.to_torch()``, ``.to_tf()``), so a PyTorch model never
  loads TensorFlow.

A class defining both pairs is taken as AutoDL API: such classes are AutoDL submissions
whose ``fit``/``predict`` are internal helpers with other signatures.

Only the worker uses this module (it runs in the untrusted process).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

AUTODL = "autodl"
NATIVE = "native"


class APIError(TypeError):
    """``Model`` offers neither API; the message says what is missing."""


@dataclass(frozen=True)
class ParticipantAPI:
    """How to call one submission: its API name and the names of its two methods."""

    name: str
    train: str
    test: str

    def datasets(self, train: Any, test: Any, tf1: bool = False) -> tuple[Any, Any]:
        """The dataset objects this API hands to the model, from two ``autodl.data`` datasets.

        ``tf1``: TF1 mode's datasets, built in whatever graph uses them
        (:mod:`autodl.ingestion.tf1`).
        """
        if self.name == NATIVE:
            return train, test
        if tf1:
            from autodl.ingestion.tf1 import to_graph_free

            return to_graph_free(train), to_graph_free(test)
        return train.to_tf(), test.to_tf()


def _has_method(cls: Any, name: str) -> bool:
    return callable(getattr(cls, name, None))


def detect(model_class: Any) -> ParticipantAPI:
    """The API of a ``Model`` class (or instance).

    >>> class M:
    ...     def fit(self, dataset, remaining_time_budget=None): ...
    ...     def predict(self, dataset, remaining_time_budget=None): ...
    >>> detect(M).name
    'native'
    """
    if _has_method(model_class, "train") and _has_method(model_class, "test"):
        return ParticipantAPI(AUTODL, "train", "test")
    if _has_method(model_class, "fit") and _has_method(model_class, "predict"):
        return ParticipantAPI(NATIVE, "fit", "predict")
    found = [n for n in ("train", "test", "fit", "predict") if _has_method(model_class, n)]
    raise APIError(
        "Model must define train() and test() (AutoDL API) or fit() and predict() "
        f"(native API); it defines {', '.join(f'{n}()' for n in found) or 'none of them'}"
    )
