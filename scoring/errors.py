"""The one error type of scheme and facts files: every problem, each naming file, path and what."""

from __future__ import annotations


class SchemeError(ValueError):
    """A scheme (or facts) file is not valid. `errors` holds one line per problem, all of them."""

    def __init__(self, errors: list[str]) -> None:
        self.errors = list(errors)
        super().__init__("\n".join(self.errors))


class FactsError(SchemeError):
    """A facts file is not valid (same shape as SchemeError)."""
