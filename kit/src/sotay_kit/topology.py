"""The shape of the platform: which services exist, what they own, how they are reached.

One source of truth for the local stack, the gateway, docker-compose and the tests, so a
port or a route is never written down twice.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ServiceInfo:
    name: str
    default_port: int
    # Resource prefixes under /api/v1 that the gateway routes to this service (DESIGN.md §5).
    resources: tuple[str, ...]
    # Subjects this service publishes on; its stream captures them.
    stream: str

    @property
    def env_prefix(self) -> str:
        return f"{self.name.upper()}_"

    @property
    def package(self) -> str:
        return f"sotay_{self.name}"

    @property
    def spec_module(self) -> str:
        """Module holding the service's ``SPEC`` (read by ``python -m sotay_kit.provision``)."""
        return f"{self.package}.app"

    @property
    def app_factory(self) -> str:
        """Import string for uvicorn's ``--factory``."""
        return f"{self.spec_module}:create_app"

    @property
    def database(self) -> str:
        return self.name

    @property
    def nats_user(self) -> str:
        return self.name

    @property
    def subjects(self) -> str:
        return f"{self.name}.>"


SERVICES: tuple[ServiceInfo, ...] = (
    ServiceInfo("identity", 8101, ("auth", "me", "orgs", "members", "role-grants"), "IDENTITY"),
    ServiceInfo("documents", 8102, ("documents", "handbook", "news"), "DOCUMENTS"),
    ServiceInfo("meetings", 8103, ("meetings", "reviews"), "MEETINGS"),
    ServiceInfo(
        "notify", 8104, ("inbox", "notification-preferences", "push-subscriptions"), "NOTIFY"
    ),
    ServiceInfo("analytics", 8105, ("reports",), "ANALYTICS"),
)

SERVICE_BY_NAME: dict[str, ServiceInfo] = {s.name: s for s in SERVICES}

GATEWAY_DEFAULT_PORT = 8080
DLQ_STREAM = "DLQ"
DLQ_SUBJECT_PREFIX = "dlq"
PUBLIC_STREAM = "PUBLIC"
# Subjects that external analytics consumers may read (DESIGN.md §6).
PUBLIC_SUBJECTS: tuple[str, ...] = (
    "documents.document.read.v1",
    "documents.document.published.v1",
    "meetings.attendance.recorded.v1",
    "meetings.meeting.closed.v1",
)
OPERATOR_NATS_USER = "operator"
ANALYTICS_READER_NATS_USER = "analytics_reader"
