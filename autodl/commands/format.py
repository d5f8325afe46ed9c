"""`autodl format SOURCE -o OUT`: convert a contributor-format dataset into an AutoDL task."""

from __future__ import annotations

import argparse
import sys

HELP = "convert a dataset (file, matrix, AutoNLP, NumPy or CSV format) into an AutoDL task"

FORMAT_NAMES = ("files", "matrix", "nlp", "numpy", "csv")  # autodl.data.formats.FORMATS


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "source", help="a folder (file/matrix/AutoNLP format, .npy files), a .npz or a .csv file"
    )
    parser.add_argument(
        "-o",
        "--output",
        required=True,
        help="folder to write the task folder <OUTPUT>/<name>/ into",
    )
    parser.add_argument("--name", help="task name (default: from the source)")
    parser.add_argument("--format", choices=FORMAT_NAMES, help="skip format detection")
    parser.add_argument(
        "--test-size",
        type=float,
        default=0.2,
        help="held out as test when the source has no test split: a fraction, or a "
        "count when >= 1 (stratified, default 0.2)",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of that split (default 0)")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing task")
    media = parser.add_argument_group("file format: videos, audio and text")
    media.add_argument("--frame-step", type=int, help="keep every N-th video frame (default 1)")
    media.add_argument("--max-frames", type=int, help="keep at most N frames per video")
    media.add_argument("--video-quality", type=int, help="JPEG quality of video frames (90)")
    media.add_argument("--sample-rate", type=int, help="resample audio to this rate (Hz)")
    media.add_argument(
        "--language", choices=("EN", "ZH"), help="text language (default: meta.json, else guessed)"
    )
    table = parser.add_argument_group("NumPy and CSV")
    table.add_argument("--label-column", help="CSV: the label column")
    table.add_argument(
        "--domain",
        choices=("image", "video", "speech", "tabular"),
        help="NumPy: what x holds, when its shape is ambiguous",
    )


def main(args: argparse.Namespace) -> int:
    from autodl.data.errors import DataError
    from autodl.data.formats import convert

    def log(message: str) -> None:
        print(f"autodl format: {message}", file=sys.stderr)

    try:
        task_dir = convert(
            args.source,
            args.output,
            name=args.name,
            format=args.format,
            test_size=args.test_size,
            seed=args.seed,
            overwrite=args.overwrite,
            log=log,
            frame_step=args.frame_step,
            max_frames=args.max_frames,
            video_quality=args.video_quality,
            sample_rate=args.sample_rate,
            language=args.language,
            label_column=args.label_column,
            domain=args.domain,
        )
    except DataError as exc:
        print(f"autodl format: error: {exc}", file=sys.stderr)
        return 2
    except FileExistsError as exc:
        print(f"autodl format: error: {exc} (use --overwrite)", file=sys.stderr)
        return 2
    print(task_dir)
    return 0
