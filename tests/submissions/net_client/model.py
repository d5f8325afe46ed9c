"""Sends its training data to a TCP server on the host's 127.0.0.1 (port in port.txt)."""

import socket
from pathlib import Path

import numpy as np


class Model:
    def __init__(self, metadata):
        self.output_dim = metadata.get_output_size()
        self.done_training = False

    def fit(self, dataset, remaining_time_budget=None):
        port = int((Path(__file__).parent / "port.txt").read_text())
        x, _ = dataset.to_numpy()
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=3) as s:
                s.sendall(x.tobytes()[:1000])
            print("network: data sent")
        except OSError as e:
            print(f"network: refused ({e})")

    def predict(self, dataset, remaining_time_budget=None):
        self.done_training = True
        return np.full((len(dataset), self.output_dim), 0.5)
