"""``AutoDLMetadata``: the reference's view of ``metadata.textproto`` (a ``DataSpecification``).

The method names and meanings are the 2019 reference's, so participants' code written
against it runs unchanged.

>>> from autodl.data.metadata import AutoDLMetadata
>>> m = AutoDLMetadata.from_text("output_dim: 10 matrix_spec { row_count: 28 col_count: 28 }")
>>> m.get_tensor_shape(), m.get_output_size(), m.is_compressed()
((1, 28, 28, 1), 10, False)
"""

from __future__ import annotations

import os
from pathlib import Path

from google.protobuf import text_format

from .errors import MetadataError
from .proto import DataSpecification, MatrixSpec

__all__ = ["AutoDLMetadata", "METADATA_FILE", "DENSE", "SPARSE", "COMPRESSED"]

METADATA_FILE = "metadata.textproto"
DENSE = MatrixSpec.DENSE
SPARSE = MatrixSpec.SPARSE
COMPRESSED = MatrixSpec.COMPRESSED


class AutoDLMetadata:
    """Metadata of one split: tensor shape, output size, sample count, vocabularies.

    ``dataset_name`` is what the reference returned from ``get_dataset_name()``: the
    split folder it was read from (a string).
    """

    def __init__(self, spec: DataSpecification, dataset_name: str = "", path: Path | None = None):
        self.metadata_ = spec
        self.dataset_name_ = dataset_name
        self.path = path
        if not spec.matrix_spec:
            raise MetadataError(path, "no matrix_spec: the tensor shape is unknown")
        if spec.output_dim <= 0:
            raise MetadataError(path, f"output_dim must be positive, got {spec.output_dim}")

    # ----------------------------------------------------------------- construction
    @classmethod
    def from_text(cls, text: str, dataset_name: str = "", path: Path | None = None):
        spec = DataSpecification()
        try:
            text_format.Merge(text, spec)
        except text_format.ParseError as e:
            raise MetadataError(path, f"malformed metadata: {e}") from None
        return cls(spec, dataset_name, path)

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> AutoDLMetadata:
        """Read ``path`` (a ``metadata.textproto`` or the split folder holding one)."""
        path = Path(path)
        if path.is_dir():
            path = path / METADATA_FILE
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise MetadataError(path, "metadata file not found") from None
        except UnicodeDecodeError as e:
            raise MetadataError(path, f"not UTF-8 text: {e}") from None
        return cls.from_text(text, str(path.parent), path)

    def to_text(self) -> str:
        return text_format.MessageToString(self.metadata_)

    def write(self, path: str | os.PathLike[str]) -> None:
        Path(path).write_text(self.to_text(), encoding="utf-8")

    # ----------------------------------------------------------------- reference API
    def get_dataset_name(self) -> str:
        return self.dataset_name_

    def is_compressed(self, bundle_index: int = 0) -> bool:
        return self.metadata_.matrix_spec[bundle_index].format == COMPRESSED

    def is_sparse(self, bundle_index: int = 0) -> bool:
        return self.metadata_.matrix_spec[bundle_index].format == SPARSE

    def get_bundle_size(self) -> int:
        return len(self.metadata_.matrix_spec)

    def get_matrix_size(self, bundle_index: int = 0) -> tuple[int, int]:
        spec = self.metadata_.matrix_spec[bundle_index]
        return spec.row_count, spec.col_count

    def get_num_channels(self, bundle_index: int = 0) -> int:
        n = self.metadata_.matrix_spec[bundle_index].num_channels
        if n == -1:  # unset: 3 for images, 1 otherwise (the reference's rule)
            return 3 if self.is_compressed(bundle_index) else 1
        return n

    def get_tensor_size(self, bundle_index: int = 0) -> tuple[int, int, int]:
        row, col = self.get_matrix_size(bundle_index)
        return row, col, self.get_num_channels(bundle_index)

    def get_tensor_shape(self, bundle_index: int = 0) -> tuple[int, int, int, int]:
        return (self.get_sequence_size(), *self.get_tensor_size(bundle_index))

    def get_sequence_size(self) -> int:
        return self.metadata_.sequence_size

    def get_output_size(self) -> int:
        return self.metadata_.output_dim

    def size(self) -> int:
        return self.metadata_.sample_count

    def get_label_to_index_map(self) -> dict[str, int]:
        return dict(self.metadata_.label_to_index_map)

    def get_channel_to_index_map(self) -> dict[str, int]:
        return dict(self.metadata_.channel_to_index_map)

    def get_feature_to_index_map(self) -> dict[str, int]:
        return dict(self.metadata_.feature_to_index_map)

    # ----------------------------------------------------------------- extras
    def get_class_labels(self) -> list[str | None]:
        """Class names by index (None where the map has no name)."""
        names: list[str | None] = [None] * self.get_output_size()
        for name, i in self.metadata_.label_to_index_map.items():
            if 0 <= i < len(names):
                names[i] = name
        return names

    def __repr__(self) -> str:
        fmt = MatrixSpec.Format.Name(self.metadata_.matrix_spec[0].format)
        return (
            f"AutoDLMetadata(shape={self.get_tensor_shape()}, format={fmt}, "
            f"output_dim={self.get_output_size()}, size={self.size()})"
        )

    def __reduce__(self):  # picklable across protobuf backends (DataLoader workers)
        return (_restore, (self.metadata_.SerializeToString(), self.dataset_name_, self.path))


def _restore(data: bytes, dataset_name: str, path: Path | None) -> AutoDLMetadata:
    return AutoDLMetadata(DataSpecification.FromString(data), dataset_name, path)
