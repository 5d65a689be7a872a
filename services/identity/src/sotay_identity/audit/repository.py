"""Identity records into kit's audit log (one implementation for every service)."""

from sotay_kit.audit import GENESIS, ChainReport, list_entries, record, verify

__all__ = ["GENESIS", "ChainReport", "list_entries", "record", "verify"]
