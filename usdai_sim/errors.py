"""Exception types users see, each rendered as one `FILE:LINE: key: what is wrong (got X)` line."""

from __future__ import annotations

import enum
from typing import Final

GOT_LIMIT: Final = 60
"""Longest rendering of an offending value, in characters (repr, truncated with '...')."""


class _NotGiven(enum.Enum):
    """Marker type for "no offending value to show"; its single member is `NOT_GIVEN`."""

    NOT_GIVEN = "NOT_GIVEN"

    def __repr__(self) -> str:
        return "NOT_GIVEN"


NOT_GIVEN: Final = _NotGiven.NOT_GIVEN
"""Default for `got`: the message has no `(got ...)` part."""


def render_got(value: object) -> str:
    """repr() of `value` on one line, cut to GOT_LIMIT characters with a trailing '...'."""
    text = repr(value)
    return text if len(text) <= GOT_LIMIT else text[: GOT_LIMIT - 3] + "..."


def one_line(file: str, line: int | None, key: str, message: str, got: object = NOT_GIVEN) -> str:
    """Format `FILE:LINE: key: message (got X)`, leaving out the parts that are empty or not given."""
    where = f"{file}:{line}" if line is not None and file else file
    parts = [p for p in (where, key, " ".join(message.split())) if p]
    text = ": ".join(parts)
    return text if got is NOT_GIVEN else f"{text} (got {render_got(got)})"


class UsdaiSimError(Exception):
    """Base of every error usdai-sim reports to a user (the CLI prints str(err) and exits non-zero)."""


class ScenarioError(UsdaiSimError):
    """Bad scenario input, located by file, 1-based line (None if unknown) and dotted key."""

    def __init__(self, file: str, line: int | None, key: str, message: str, got: object = NOT_GIVEN) -> None:
        super().__init__(file, line, key, message, got)
        self.file = file
        self.line = line
        self.key = key
        self.message = message
        self.got = got

    def __str__(self) -> str:
        return one_line(self.file, self.line, self.key, self.message, self.got)


class RunTooLargeError(UsdaiSimError):
    """A run whose arrays would not fit the memory budget; same one-line style as ScenarioError."""

    def __init__(
        self,
        message: str,
        file: str = "",
        line: int | None = None,
        key: str = "",
        got: object = NOT_GIVEN,
    ) -> None:
        super().__init__(message, file, line, key, got)
        self.message = message
        self.file = file
        self.line = line
        self.key = key
        self.got = got

    def __str__(self) -> str:
        return one_line(self.file, self.line, self.key, self.message, self.got)


class InvariantError(UsdaiSimError):
    """A ledger identity or invariant broke during a run with --check-invariants (a bug in the model)."""


class ResultsError(UsdaiSimError):
    """A results directory (or one of its files) that is missing, corrupt, foreign or of another format."""

    def __init__(self, file: str, message: str) -> None:
        super().__init__(file, message)
        self.file = file
        self.message = message

    def __str__(self) -> str:
        return one_line(self.file, None, "", self.message)
