"""A RawTask -> a task folder, through the one writer (`autodl.data.write_task`)."""

from __future__ import annotations

from pathlib import Path

from autodl.data.formats._base import FormatError, RawTask


def write(task: RawTask, out_dir: Path, overwrite: bool = False) -> Path:
    """Write ``task`` (train and test both set) as ``out_dir/<task.name>``."""
    from autodl.data import write_task

    if task.test is None:
        raise ValueError("split the task before writing it (no test split)")
    if task.test.labels.shape[1] != task.output_dim:
        raise FormatError(
            f"{task.name}: train has {task.output_dim} label columns, test "
            f"{task.test.labels.shape[1]}"
        )
    feature_map = (
        {name: i for i, name in enumerate(task.feature_names)} if task.feature_names else None
    )
    try:
        return write_task(
            out_dir,
            task.name,
            train=(task.train.examples, task.train.labels),
            test=(task.test.examples, task.test.labels),
            format=task.kind,
            label_names=task.label_names,
            output_dim=task.output_dim,
            domain=task.domain,
            num_channels=task.shape[3] if task.kind != "dense" else None,
            channel_to_index_map=task.vocabulary or None,
            feature_to_index_map=feature_map,
            overwrite=overwrite,
            public_info=task.info or None,
        )
    except FileExistsError:
        raise
    except ValueError as exc:  # the writer's own checks: report them as bad input
        raise FormatError(f"{task.name}: {exc}") from exc
