"""User-facing errors: the CLI prints `str(err)` on one line and exits non-zero."""


class TrustbenchError(Exception):
    """An error caused by input or environment; its message is one line naming the culprit."""

    exit_code = 2


class DataError(TrustbenchError):
    """A dataset file or record is malformed. Message names file and record index."""


class SpecError(TrustbenchError):
    """A model, judge or task spec cannot be understood."""
