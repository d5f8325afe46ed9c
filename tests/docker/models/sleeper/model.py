"""Never returns from its constructor."""

import time


class Model:
    def __init__(self, metadata):
        time.sleep(10_000)
