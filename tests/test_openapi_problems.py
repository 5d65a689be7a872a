"""Every service documents its error answers as what it sends: problem+json, never FastAPI's
``HTTPValidationError`` (the web client's generated types are read from these documents)."""

from __future__ import annotations

import importlib
import json
from typing import Any

import pytest
from sotay_identity.problems import AccountLocked, SourceThrottled
from sotay_kit.topology import SERVICES

PROBLEM_JSON = "application/problem+json"
PROBLEM_REF = "#/components/schemas/ProblemDetails"
METHODS = {"get", "post", "put", "patch", "delete"}


def _document(package: str) -> dict[str, Any]:
    return dict(importlib.import_module(f"{package}.app").create_app().openapi())


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.name)
def test_every_error_response_is_documented_as_problem_json(service: Any) -> None:
    document = _document(service.package)
    assert "HTTPValidationError" not in json.dumps(document)
    assert document["components"]["schemas"]["ProblemDetails"]["required"] == [
        "type",
        "title",
        "status",
    ]
    operations = [
        (path, method, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]
    assert operations
    for path, method, operation in operations:
        where = f"{method.upper()} {path}"
        responses = operation["responses"]
        takes_input = bool(operation.get("parameters")) or "requestBody" in operation
        if takes_input:
            assert "422" in responses, where
        assert "500" in responses, where
        for status, response in responses.items():
            if status.startswith("2") or status.startswith("3"):
                continue
            assert response["content"] == {PROBLEM_JSON: {"schema": {"$ref": PROBLEM_REF}}}, (
                where,
                status,
            )
            assert response["description"], (where, status)


@pytest.mark.parametrize(
    ("package", "method", "path", "statuses"),
    [
        ("sotay_identity", "post", "/api/v1/auth/login", {"401", "403", "422", "429", "500"}),
        (
            "sotay_meetings",
            "post",
            "/api/v1/meetings/{meeting_id}/checkin",
            {"401", "404", "409", "422", "500"},
        ),
        ("sotay_documents", "post", "/api/v1/documents", {"400", "401", "403", "404", "409"}),
    ],
)
def test_a_route_documents_the_problems_its_service_raises(
    package: str, method: str, path: str, statuses: set[str]
) -> None:
    responses = _document(package)["paths"][path][method]["responses"]
    assert statuses <= set(responses)


def test_a_status_is_described_by_the_titles_of_its_problems() -> None:
    login = _document("sotay_identity")["paths"]["/api/v1/auth/login"]["post"]["responses"]
    assert login["429"]["description"] == f"{AccountLocked.title}; {SourceThrottled.title}"
