"""The one error type whose message is shown to the user."""

from __future__ import annotations


class UserError(Exception):
    """Bad input or a refused action; `message` is German text for the chat."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
