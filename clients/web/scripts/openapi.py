"""The services' OpenAPI documents, dumped offline into clients/web/openapi/<service>.json.

The web client's API types are generated from these files (openapi-typescript, at build time), so
a changed API breaks the client's type check instead of a member's screen. tests/test_web_client.py
fails when a committed file differs from what the service's app says today.

    python clients/web/scripts/openapi.py          # rewrite the files
    python clients/web/scripts/openapi.py --check  # exit 1 when a file is out of date
"""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path
from typing import Any

from sotay_kit.topology import SERVICES

OPENAPI_DIR = Path(__file__).resolve().parents[1] / "openapi"


def document(service: str) -> dict[str, Any]:
    """The service's OpenAPI document, from its app factory (no server, no database)."""
    package = next(s.package for s in SERVICES if s.name == service)
    app = importlib.import_module(f"{package}.app").create_app()
    return dict(app.openapi())


def rendered(service: str) -> str:
    return json.dumps(document(service), ensure_ascii=False, indent=1, sort_keys=True) + "\n"


def stale() -> list[str]:
    """Services whose committed document differs from the app's."""
    return [
        s.name
        for s in SERVICES
        if not (OPENAPI_DIR / f"{s.name}.json").is_file()
        or (OPENAPI_DIR / f"{s.name}.json").read_text(encoding="utf-8") != rendered(s.name)
    ]


def main(argv: list[str]) -> int:
    if "--check" in argv:
        out_of_date = stale()
        for name in out_of_date:
            print(f"clients/web/openapi/{name}.json is out of date: run make web-api")
        return 1 if out_of_date else 0
    OPENAPI_DIR.mkdir(exist_ok=True)
    for s in SERVICES:
        (OPENAPI_DIR / f"{s.name}.json").write_text(rendered(s.name), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
