"""The web client's API types come from the services' OpenAPI documents committed under
clients/web/openapi/: a changed API must show up there (and so in the client's type check)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_committed_openapi_documents_match_the_services() -> None:
    spec = importlib.util.spec_from_file_location(
        "web_openapi", ROOT / "clients" / "web" / "scripts" / "openapi.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.stale() == [], "run `make web-api` and fix the client's type errors"
