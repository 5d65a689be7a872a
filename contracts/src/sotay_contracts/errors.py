"""Errors raised while building, reading or parsing events.

Every error carries a human-readable ``reason`` that is safe to log and to put in a dead-letter
record (it never contains event data, only attribute names, types and validation messages).
"""

from __future__ import annotations

__all__ = ["ContractError", "InvalidEnvelope", "InvalidEventData", "UnknownEventType"]


class ContractError(Exception):
    """Base of every error raised by ``sotay_contracts``."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason

    def __str__(self) -> str:
        return self.reason


class InvalidEnvelope(ContractError):
    """The CloudEvents attributes (NATS headers) are missing, malformed or unsupported."""


class UnknownEventType(ContractError):
    """The ``ce-type`` is not one this version of the contracts knows."""


class InvalidEventData(ContractError):
    """The event body does not validate against the model of its ``ce-type``."""
