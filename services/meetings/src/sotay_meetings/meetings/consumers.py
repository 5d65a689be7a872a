"""Event handlers of meetings: the identity projection (org tree, who is in which cell, role
grants), kept by kit's handlers on a durable consumer named ``meetings``. Meetings never calls
identity: the roster snapshot at scheduling reads this projection."""

from __future__ import annotations

from sotay_kit.app import ConsumerBinding
from sotay_kit.projections import identity as identity_projection

BINDINGS: tuple[ConsumerBinding, ...] = (identity_projection.binding("meetings"),)
