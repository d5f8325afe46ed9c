"""Not valid Python."""


class Model:
    def __init__(self, metadata)
        pass
