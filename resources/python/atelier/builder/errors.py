"""The builder's input errors (no third-party imports, so `check` can report a missing scikit-learn)."""


class BuildError(Exception):
    """A problem with the input the analyst can act on (code + message)."""

    def __init__(self, code, message, **details):
        super().__init__(message)
        self.code = code
        self.details = details
