"""Event data models, one module per producing service."""

from sotay_contracts.events import documents, identity, meetings, notify

__all__ = ["documents", "identity", "meetings", "notify"]
