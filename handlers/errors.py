"""Errors a use case raises. Each carries a catalog key so the person gets a clear, translated text."""

from __future__ import annotations

from typing import Any


class HandlerError(Exception):
    """Refused input or action. Nothing was written; ``key`` names the text shown to the person."""

    def __init__(self, key: str, **params: Any) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


class InvalidInput(HandlerError):
    pass


class NotFound(HandlerError):
    pass


class NotAllowed(HandlerError):
    """The acting person may not do this (not the question's expert or asker, not themself)."""


class RecipientUnreachable(Exception):
    """The platform says the recipient cannot be messaged (blocked the bot, left the workspace)."""


class TransientSendError(Exception):
    """A send failed in a way that may pass (rate limit, 5xx, timeout); try again later."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class StorageUnavailable(Exception):
    """The database could not be reached, even after retrying for a while; nothing was saved."""
