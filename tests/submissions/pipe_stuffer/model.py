"""Shrinks the supervisor's message pipe to one page, never reads it again, and keeps
answering every round itself from a thread (from the first test on): a supervisor
without write deadlines blocks for good once the pipe is full."""

import fcntl
import json
import os
import sys
import threading
import time

import numpy as np

F_SETPIPE_SZ = 1031


def _frame(header, payload=b""):
    raw = json.dumps(dict(header, nbytes=len(payload))).encode()
    return len(raw).to_bytes(4, "big") + raw + payload


class Model:
    def __init__(self, metadata):
        self.output_dim = metadata.get_output_size()
        self.done_training = False

    def fit(self, dataset, remaining_time_budget=None):
        pass

    def predict(self, dataset, remaining_time_budget=None):
        read_fd, write_fd = int(sys.argv[-2]), int(sys.argv[-1])
        try:
            fcntl.fcntl(read_fd, F_SETPIPE_SZ, 4096)
        except OSError:
            pass
        pred = np.full((len(dataset), self.output_dim), 0.1).astype("<f8")
        header = {"op": "prediction", "shape": list(pred.shape), "dtype": "<f8"}
        prediction = _frame(dict(header, done_training=False), pred.tobytes())
        answer = _frame({"op": "trained"}) + prediction

        def answer_forever():
            os.write(write_fd, prediction)  # this round's answer, then every next one
            while True:
                os.write(write_fd, answer)

        threading.Thread(target=answer_forever, daemon=True).start()
        time.sleep(3600)  # the worker's own loop never reads again
