"""TF1 mode of the worker: ``import tensorflow as tf`` in the submission gives TF 1.x.

The 2019 submissions were written for TensorFlow 1.x: ``tf.Session``, placeholders,
``tf.logging``, ``dataset.make_one_shot_iterator()``, ``tf.train`` optimizers,
Estimators. :func:`activate` makes ``tensorflow`` mean ``tf.compat.v1`` with the v2
behaviour disabled (graph mode, v1 control flow and variables), before ``model.py`` is
imported. :class:`GraphFreeDataset` is the dataset such code gets: TF 1.x built a
dataset's ops lazily, in the graph of the iterator made from it; TF >= 1.15 builds them
where the dataset is made, so a dataset made in one graph and iterated in another (a fresh
``tf.Graph()``, an Estimator's ``input_fn``) fails. This one keeps the chain of
transformations the code applied and replays it in the graph current when it is used.

Only the worker imports this module (the untrusted side), and only in TF1 mode: which
mode a submission gets is decided on the trusted side (:mod:`autodl.ingestion.tfmode`).
"""

from __future__ import annotations

import sys
import weakref
from collections.abc import Callable
from typing import Any

import tensorflow as tf
from tensorflow.python.data.ops import dataset_ops  # the class hierarchy of tf.data

__all__ = ["GraphFreeDataset", "activate", "to_graph_free"]

_SELF = frozenset(
    {
        "_lazy_source",
        "_lazy_steps",
        "_lazy_graphs",
        "_lazy_eager",
        "_lazy_build",
        "_lazy_replay",
        "_lazy_derive",
        "__class__",
        "__dict__",
        "__init__",
        "__repr__",
    }
)


def activate() -> dict[str, Any]:
    """Make ``import tensorflow`` give ``tf.compat.v1`` in graph mode; returns what it did.

    Our own TF adapter is imported first: it holds the TF2 module it was written for.
    """
    import autodl.data.tf  # noqa: F401  (bound to the real TF2 module before the alias)

    v1 = tf.compat.v1
    v1.disable_v2_behavior()
    # The alias is the whole switch: the submission's `import tensorflow as tf` finds it
    # in sys.modules; `import tensorflow.compat.v2` and other submodules still resolve,
    # since their own entries are untouched. This process runs the submission alone.
    sys.modules["tensorflow"] = v1
    return {
        "tensorflow": tf.__version__,
        "estimator": _has_estimator(v1),
    }


def _has_estimator(v1: Any) -> bool:
    try:
        return v1.estimator is not None
    except (AttributeError, ImportError):
        return False


class GraphFreeDataset(dataset_ops.DatasetV1):
    """A ``tf.compat.v1.data.Dataset`` whose ops are (re)built in the graph current when
    any of it is used, as TF 1.x built a dataset's ops in the graph of its iterator.

    It records its source (a function building the base dataset) and the transformations
    applied to it (``map``, ``batch``, ``shuffle``...; each returns another
    ``GraphFreeDataset``); the first use in a graph replays them there, once per graph.
    Anything else (an iterator, ``output_shapes``, a tensor) is the built dataset's own.
    It is a ``DatasetV1``, so ``isinstance`` checks (an Estimator's) hold.
    """

    def __init__(
        self,
        source: Callable[[], tf.data.Dataset],
        steps: tuple[tuple[str, tuple, dict], ...] = (),
    ) -> None:
        # No super().__init__(): it would build the ops now, in whatever graph is current.
        object.__setattr__(self, "_lazy_source", source)
        object.__setattr__(self, "_lazy_steps", steps)
        object.__setattr__(self, "_lazy_graphs", weakref.WeakKeyDictionary())
        object.__setattr__(self, "_lazy_eager", None)

    def _lazy_replay(self) -> tf.data.Dataset:
        dataset = object.__getattribute__(self, "_lazy_source")()
        for name, args, kwargs in object.__getattribute__(self, "_lazy_steps"):
            dataset = getattr(dataset, name)(*args, **kwargs)
        return dataset

    def _lazy_build(self) -> tf.data.Dataset:
        """The dataset built in the current graph (built on its first use there)."""
        replay = object.__getattribute__(self, "_lazy_replay")
        if tf.executing_eagerly():
            built = object.__getattribute__(self, "_lazy_eager")
            if built is None:
                built = replay()
                object.__setattr__(self, "_lazy_eager", built)
            return built
        graphs = object.__getattribute__(self, "_lazy_graphs")
        graph = tf.compat.v1.get_default_graph()
        built = graphs.get(graph)
        if built is None:
            built = graphs[graph] = replay()
        return built

    def _lazy_derive(self, step: tuple[str, tuple, dict], built: Any) -> GraphFreeDataset:
        get = object.__getattribute__
        derived = GraphFreeDataset(get(self, "_lazy_source"), (*get(self, "_lazy_steps"), step))
        # Built already, in the current graph, to learn that it returns a dataset.
        if tf.executing_eagerly():
            object.__setattr__(derived, "_lazy_eager", built)
        else:
            get(derived, "_lazy_graphs")[tf.compat.v1.get_default_graph()] = built
        return derived

    def __getattribute__(self, name: str) -> Any:
        if name in _SELF:
            return object.__getattribute__(self, name)
        value = getattr(object.__getattribute__(self, "_lazy_build")(), name)
        if name.startswith("_") or not callable(value):
            return value
        derive = object.__getattribute__(self, "_lazy_derive")

        def method(*args: Any, **kwargs: Any) -> Any:
            result = value(*args, **kwargs)
            if isinstance(result, dataset_ops.DatasetV2):
                return derive((name, args, kwargs), result)
            return result

        method.__name__ = name
        method.__doc__ = getattr(value, "__doc__", None)
        return method

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(object.__getattribute__(self, "_lazy_build")(), name, value)

    # DatasetV1's abstract methods; __getattribute__ hands them to the built dataset.
    def _as_variant_tensor(self) -> Any:
        return object.__getattribute__(self, "_lazy_build")()._variant_tensor

    def _inputs(self) -> list:
        return object.__getattribute__(self, "_lazy_build")()._inputs()

    # Special methods are looked up on the type, past __getattribute__.
    def __iter__(self) -> Any:
        return iter(object.__getattribute__(self, "_lazy_build")())

    def __len__(self) -> int:
        return len(object.__getattribute__(self, "_lazy_build")())

    def __bool__(self) -> bool:
        return True

    def __repr__(self) -> str:
        steps = object.__getattribute__(self, "_lazy_steps")
        chain = "".join(f".{name}(...)" for name, _, _ in steps)
        return f"<GraphFreeDataset dataset{chain}>"


def to_graph_free(dataset: Any) -> GraphFreeDataset:
    """The TF1-mode form of an ``autodl.data`` dataset's ``to_tf()``: same elements, ops
    built in the graph that uses them."""
    from autodl.data.tf import to_tf_dataset

    return GraphFreeDataset(lambda: to_tf_dataset(dataset, v1=True))


# What TF1 code reaches for that no TF 2 has (contrib) or TF >= 2.16 lost (estimator).
_GONE = {
    "estimator": "tf.estimator is gone from TensorFlow >= 2.16: run the submission in an "
    "environment with TensorFlow 2.15 (--python legacy, docs/legacy.md)",
    "contrib": "tf.contrib is in no TensorFlow 2: the submission needs TensorFlow 1.x, "
    "which no environment here offers (docs/legacy.md)",
}


def hint(exc: BaseException) -> str:
    """A sentence for an AttributeError of TF1 code that names what is missing, or ''."""
    if not isinstance(exc, AttributeError):
        return ""
    if "is not available with Keras 3" in str(exc):  # tf.layers, tf.compat.v1.layers
        return (
            " (tf.layers needs Keras 2, which TensorFlow <= 2.15 has: run the submission "
            "there, --python legacy, docs/legacy.md)"
        )
    if "module 'tensorflow" not in str(exc):
        return ""
    return f" ({_GONE[exc.name]})" if exc.name in _GONE else ""
