"""autodl: a harness for AutoDL challenges.

Datasets in the AutoDL format (``autodl.data``), the ingestion supervisor
(``autodl.ingestion``), scoring (``autodl.scoring``) and local challenges
(``autodl.challenge``). Importing this package is cheap on purpose: no
TensorFlow, PyTorch or even NumPy is imported until a submodule is used.
"""

__version__ = "0.1.0"
