"""Generate the committed contract artifacts from the event models.

    python -m sotay_contracts.generate             # (re)write schemas/*.json and asyncapi.yaml
    python -m sotay_contracts.generate --check     # exit 1 and name the files that drifted
    python -m sotay_contracts.generate --baseline  # freeze v1 schemas missing from baseline/

Output is deterministic: sorted keys, fixed examples, trailing newline. Files in
``schemas/baseline/`` are never overwritten: they are the schemas as released, the reference of
the breaking-change guard (``sotay_contracts.compat``).
"""

from __future__ import annotations

import argparse
import inspect
import json
import sys
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic.json_schema import models_json_schema

from sotay_contracts.envelope import SPECVERSION, TYPE_PREFIX, Event, new_cloud_event
from sotay_contracts.events import documents, meetings
from sotay_contracts.registry import ALL_EVENTS, PUBLIC_SUBJECTS

__all__ = [
    "CONTRACTS_DIR",
    "asyncapi_document",
    "baseline_files",
    "check",
    "event_schema",
    "expected_files",
    "main",
    "render_json",
]

CONTRACTS_DIR = Path(__file__).resolve().parents[2]
SCHEMAS_DIR = "schemas"
BASELINE_DIR = "schemas/baseline"
ASYNCAPI_FILE = "asyncapi.yaml"
JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
PUBLIC_TAG = "public"


# --------------------------------------------------------------------------- JSON Schemas


def event_schema(model: type[Event]) -> dict[str, Any]:
    """JSON Schema of one event's data, identified by its ``ce-dataschema`` URL."""
    schema = model.model_json_schema()
    schema["$schema"] = JSON_SCHEMA_DIALECT
    schema["$id"] = model.dataschema()
    schema["title"] = model.__name__
    schema["description"] = _docstring(model)
    schema["x-cloudevents-type"] = model.ce_type()
    schema["x-nats-subject"] = model.SUBJECT
    return schema


def _docstring(model: type[Event]) -> str:
    """The model's own docstring, each paragraph unwrapped to one line."""
    doc = inspect.cleandoc(model.__doc__ or "")
    if not doc:
        raise ValueError(f"{model.__name__} needs a docstring saying when it fires")
    return "\n\n".join(" ".join(p.split()) for p in doc.split("\n\n"))


def render_json(document: Any) -> str:
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


# ------------------------------------------------------------------------------- AsyncAPI


def _key(subject: str) -> str:
    return subject.replace(".", "_")


def _ce_headers_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "description": "CloudEvents 1.0 binary content mode on NATS: attributes in ce-* headers.",
        "required": [
            "ce-specversion",
            "ce-id",
            "ce-source",
            "ce-type",
            "ce-subject",
            "ce-time",
            "ce-datacontenttype",
            "ce-dataschema",
            "Nats-Msg-Id",
        ],
        "properties": {
            "ce-specversion": {"type": "string", "const": SPECVERSION},
            "ce-id": {
                "type": "string",
                "format": "uuid",
                "description": "UUIDv7, unique per event; equals Nats-Msg-Id.",
            },
            "ce-source": {"type": "string", "pattern": "^/services/[a-z]+$"},
            "ce-type": {"type": "string", "pattern": "^vn\\.sotay\\."},
            "ce-subject": {"type": "string", "description": "Id of the aggregate."},
            "ce-time": {
                "type": "string",
                "format": "date-time",
                "description": "RFC 3339, UTC, Z suffix.",
            },
            "ce-datacontenttype": {"type": "string", "const": "application/json"},
            "ce-dataschema": {"type": "string", "format": "uri"},
            "Nats-Msg-Id": {
                "type": "string",
                "description": "Equals ce-id: JetStream de-duplicates re-published events.",
            },
            "traceparent": {
                "type": "string",
                "pattern": "^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$",
                "description": "W3C Trace Context.",
            },
            "tracestate": {"type": "string", "description": "W3C Trace Context."},
        },
    }


_EXAMPLE_TIME = datetime(2025, 3, 14, 8, 30, tzinfo=UTC)
_EXAMPLE_TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def _uid(n: int) -> uuid.UUID:
    return uuid.UUID(int=0x0195947A_0000_7000_8000_000000000000 + n)


def public_examples() -> dict[str, Event]:
    """One realistic example per public subject (validated by constructing the model)."""
    examples: list[Event] = [
        documents.DocumentPublished(
            document_id=_uid(1),
            version=1,
            publication_id=_uid(2),
            audience_org_ids=[_uid(3)],
            audience_org_paths=["1.12"],
            audience_size=5873,
            study_required=True,
            study_deadline=datetime(2025, 4, 15, 17, 0, tzinfo=UTC),
            classification=documents.Classification.INTERNAL,
            kind=documents.DocumentKind.RESOLUTION,
            published_by=_uid(4),
            publisher_org_id=_uid(3),
            occurred_at=_EXAMPLE_TIME,
        ),
        documents.DocumentRead(
            document_id=_uid(1),
            version=1,
            publication_id=_uid(2),
            member_id=_uid(5),
            cell_id=_uid(6),
            org_path="1.12.305.2041",
            state=documents.ReadState.STUDIED,
            progress_percent=100,
            occurred_at=_EXAMPLE_TIME,
        ),
        meetings.AttendanceRecorded(
            meeting_id=_uid(7),
            member_id=_uid(5),
            org_id=_uid(6),
            org_path="1.12.305.2041",
            meeting_kind=meetings.MeetingKind.REGULAR,
            meeting_starts_at=datetime(2025, 3, 14, 7, 30, tzinfo=UTC),
            status=meetings.AttendanceStatus.PRESENT,
            method=meetings.AttendanceMethod.CODE,
            recorded_by=_uid(5),
            occurred_at=_EXAMPLE_TIME,
        ),
        meetings.MeetingClosed(
            meeting_id=_uid(7),
            org_id=_uid(6),
            org_path="1.12.305.2041",
            kind=meetings.MeetingKind.REGULAR,
            starts_at=datetime(2025, 3, 14, 7, 30, tzinfo=UTC),
            invited=27,
            present=21,
            late=2,
            absent_excused=2,
            absent_unexcused=1,
            exempt=1,
            quorum_required=0.6667,
            quorum_met=True,
            closed_by=_uid(8),
            occurred_at=datetime(2025, 3, 14, 10, 0, tzinfo=UTC),
        ),
    ]
    return {example.SUBJECT: example for example in examples}


def asyncapi_document() -> dict[str, Any]:
    """AsyncAPI 3.0.0 description of every subject, its message and its producer."""
    refs, defs = models_json_schema(
        [(model, "validation") for model in ALL_EVENTS],
        ref_template="#/components/schemas/{model}",
    )
    component_schemas: dict[str, Any] = dict(defs.get("$defs", {}))
    component_schemas["CloudEventHeaders"] = _ce_headers_schema()
    examples = public_examples()

    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    for model in ALL_EVENTS:
        subject = model.SUBJECT
        service = subject.split(".", 1)[0]
        key = _key(subject)
        name = model.__name__
        public = subject in PUBLIC_SUBJECTS
        tags = [{"name": service}] + ([{"name": PUBLIC_TAG}] if public else [])
        message: dict[str, Any] = {
            "name": name,
            "title": name,
            "summary": _docstring(model).split("\n\n", 1)[0],
            "description": _docstring(model),
            "contentType": "application/json",
            "headers": {
                "allOf": [
                    {"$ref": "#/components/schemas/CloudEventHeaders"},
                    {
                        "type": "object",
                        "properties": {
                            "ce-type": {"type": "string", "const": model.ce_type()},
                            "ce-source": {"type": "string", "const": model.source()},
                            "ce-dataschema": {"type": "string", "const": model.dataschema()},
                            "ce-subject": {
                                "type": "string",
                                "description": f"Value of the data field {model.AGGREGATE}.",
                            },
                        },
                    },
                ]
            },
            "payload": refs[(model, "validation")],
            "tags": tags,
            "externalDocs": {"url": model.dataschema(), "description": "JSON Schema of the data"},
        }
        if subject in examples:
            example = examples[subject]
            ce = new_cloud_event(
                example,
                id=str(uuid.UUID(int=0x0195947A_0000_7000_9000_000000000000 + len(messages))),
                time=_EXAMPLE_TIME,
                traceparent=_EXAMPLE_TRACEPARENT,
            )
            message["examples"] = [
                {
                    "name": f"{name}Example",
                    "summary": f"A {subject} event as it arrives on the PUBLIC stream.",
                    "headers": ce.to_nats_headers(),
                    "payload": example.model_dump(mode="json"),
                }
            ]
        messages[name] = message
        channels[key] = {
            "address": subject,
            "title": subject,
            "description": f"Published by the {service} service"
            + (" and sourced into the PUBLIC stream for external consumers." if public else "."),
            "messages": {name: {"$ref": f"#/components/messages/{name}"}},
            "tags": tags,
        }
        operations[f"send_{key}"] = {
            "action": "send",
            "title": f"{service} publishes {subject}",
            "channel": {"$ref": f"#/channels/{key}"},
            "messages": [{"$ref": f"#/channels/{key}/messages/{name}"}],
            "tags": [{"name": service}],
            "x-producer": service,
        }

    return {
        "asyncapi": "3.0.0",
        "id": "urn:vn:sotay:events",
        "info": {
            "title": "Sổ tay Đảng viên điện tử — events",
            "version": "1.0.0",
            "description": (
                "Events exchanged between the services over NATS JetStream, as CloudEvents 1.0 "
                "in binary content mode (attributes in ce-* headers, JSON body). ce-type = "
                f"'{TYPE_PREFIX}' + subject. Within a major version changes are additive; a "
                "breaking change is a new v2 subject published in parallel. Events carry ids, "
                "org paths and facts, never personal data. Subjects tagged 'public' are "
                "available to external analytics consumers on the PUBLIC stream (read-only)."
            ),
            "tags": [
                {"name": PUBLIC_TAG, "description": "Readable by external analytics consumers."},
                {"name": "identity"},
                {"name": "documents"},
                {"name": "meetings"},
                {"name": "notify"},
            ],
        },
        "defaultContentType": "application/json",
        "servers": {
            "nats": {
                "host": "localhost:4222",
                "protocol": "nats",
                "description": "NATS JetStream; one stream per producing service, plus PUBLIC.",
            }
        },
        "channels": channels,
        "operations": operations,
        "components": {"schemas": component_schemas, "messages": messages},
    }


def render_yaml(document: Any) -> str:
    import yaml  # generator-time only dependency (dev group)

    class _NoAliasDumper(yaml.SafeDumper):
        def ignore_aliases(self, data: Any) -> bool:
            return True

    text: str = yaml.dump(
        document,
        Dumper=_NoAliasDumper,
        sort_keys=True,
        allow_unicode=True,
        default_flow_style=False,
        width=100,
    )
    return text if text.endswith("\n") else text + "\n"


# ---------------------------------------------------------------------------------- files


def expected_files() -> dict[str, str]:
    """Relative path (under contracts/) -> content, for every generated (non-baseline) file."""
    files = {
        f"{SCHEMAS_DIR}/{model.SUBJECT}.json": render_json(event_schema(model))
        for model in ALL_EVENTS
    }
    files[ASYNCAPI_FILE] = render_yaml(asyncapi_document())
    return files


def baseline_files() -> dict[str, str]:
    """Baseline path -> content for every v1 subject (what ``--baseline`` freezes)."""
    return {
        f"{BASELINE_DIR}/{model.SUBJECT}.json": render_json(event_schema(model))
        for model in ALL_EVENTS
        if model.SUBJECT.endswith(".v1")
    }


def check(root: Path = CONTRACTS_DIR) -> list[str]:
    """Problems between the files on disk and what the models generate (empty = in sync)."""
    problems: list[str] = []
    expected = expected_files()
    for relative, content in sorted(expected.items()):
        path = root / relative
        if not path.is_file():
            problems.append(f"{relative}: missing")
        elif path.read_text(encoding="utf-8") != content:
            problems.append(f"{relative}: differs from the models")
    schemas_dir = root / SCHEMAS_DIR
    if schemas_dir.is_dir():
        for path in sorted(schemas_dir.glob("*.json")):
            relative = path.relative_to(root).as_posix()
            if relative not in expected:
                problems.append(f"{relative}: no event model produces it (stale)")
    return problems


def write(root: Path = CONTRACTS_DIR) -> list[str]:
    expected = expected_files()
    (root / SCHEMAS_DIR).mkdir(parents=True, exist_ok=True)
    written = []
    for relative, content in sorted(expected.items()):
        path = root / relative
        if not path.is_file() or path.read_text(encoding="utf-8") != content:
            path.write_text(content, encoding="utf-8")
            written.append(relative)
    for path in sorted((root / SCHEMAS_DIR).glob("*.json")):
        relative = path.relative_to(root).as_posix()
        if relative not in expected:
            path.unlink()
            written.append(f"{relative} (removed)")
    return written


def freeze_baseline(root: Path = CONTRACTS_DIR) -> list[str]:
    (root / BASELINE_DIR).mkdir(parents=True, exist_ok=True)
    written = []
    for relative, content in sorted(baseline_files().items()):
        path = root / relative
        if not path.exists():
            path.write_text(content, encoding="utf-8")
            written.append(relative)
    return written


def main(argv: Sequence[str] | None = None, root: Path = CONTRACTS_DIR) -> int:
    parser = argparse.ArgumentParser(prog="python -m sotay_contracts.generate")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true", help="fail if generated files drifted")
    mode.add_argument(
        "--baseline",
        action="store_true",
        help="copy released v1 schemas missing from schemas/baseline/ (never overwrites)",
    )
    args = parser.parse_args(argv)
    if args.check:
        problems = check(root)
        for problem in problems:
            print(f"drifted: {problem}", file=sys.stderr)
        if problems:
            print("run: python -m sotay_contracts.generate", file=sys.stderr)
            return 1
        print("contracts: generated files are up to date")
        return 0
    changed = freeze_baseline(root) if args.baseline else write(root)
    for relative in changed:
        print(f"wrote {relative}")
    if not changed:
        print("nothing to do")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
