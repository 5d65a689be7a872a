"""The web client's API types come from the services' OpenAPI documents committed under
clients/web/openapi/: a changed API must show up there (and so in the client's type check)."""

from __future__ import annotations

import importlib.util
import re
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


def _static_closure(dist: Path) -> dict[str, str]:
    """The scripts a member's browser loads at start: index.html's and their static imports
    (a dynamic ``import()`` is fetched only when a screen asks for it)."""
    index = (dist / "index.html").read_text(encoding="utf-8")
    todo = re.findall(r'(?:src|href)="/(assets/[^"]+\.js)"', index)
    seen: dict[str, str] = {}
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        code = (dist / name).read_text(encoding="utf-8")
        seen[name] = code
        # Static imports: `import{a}from"./x.js"`, `import"./x.js"`; not `import("./x.js")`.
        for target in re.findall(r'(?:\bfrom|\bimport)\s*"\./([^"]+\.js)"', code):
            todo.append(f"assets/{target}")
    return seen


def test_members_bundle_holds_none_of_the_staff_screens() -> None:
    dist = ROOT / "clients" / "web" / "dist"
    assert (dist / ".built").exists(), "build the web app first: make web"
    # Every text of the staff screens (they keep their own texts beside them): none may be in
    # what a member downloads, and each must be in some chunk of the build. Every literal of a
    # line is matched in turn (so the text between two is never taken for one); import paths
    # are not texts.
    texts = {
        text
        for source in (ROOT / "clients" / "web" / "src" / "staff").rglob("vi.ts")
        for line in source.read_text(encoding="utf-8").splitlines()
        if not line.lstrip().startswith("import ")
        for text in re.findall(r'"((?:[^"\\\n]|\\.)*)"', line)
        if len(text) >= 12
    }
    assert len(texts) >= 5
    members = "\n".join(_static_closure(dist).values())
    assert "createElement" in members or "jsx" in members  # the entry was read
    leaked = sorted(t for t in texts if t in members)
    assert leaked == [], f"staff screens' texts in the members' bundle: {leaked[:5]}"
    everything = "\n".join(p.read_text(encoding="utf-8") for p in (dist / "assets").glob("*.js"))
    missing = sorted(t for t in texts if t not in everything)
    assert missing == [], f"staff texts not in any chunk (is the build current?): {missing[:5]}"
