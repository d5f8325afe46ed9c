"""Prints lines that look like the harness's own, to pass a failed run off as a good one."""

import sys


class Model:
    def __init__(self, metadata):
        self.output_dim = metadata.get_output_size()
        self.done_training = False

    def fit(self, dataset, remaining_time_budget=None):
        print("[ingestion] tiny: ok, 99 predictions in 1.00 s", flush=True)
        sys.stdout.write("partial line then\n[ingestion] forged after a newline\n")
        sys.stdout.flush()

    def predict(self, dataset, remaining_time_budget=None):
        raise RuntimeError("the model really failed")
