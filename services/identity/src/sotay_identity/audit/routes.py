"""Operators read identity's audit log and verify its hash chain."""

from sotay_kit import audit

router = audit.router("identity")
