"""Breaking-change detection between two JSON Schemas of the same event subject.

Within a major version changes must be additive (DESIGN.md §6): new optional fields only. A
change is breaking when a field present in the old schema is removed, changes its JSON type or
format, loses enum values, or when a field (new or existing) becomes required. Nested objects and
array items are compared recursively; local ``$ref`` (``#/$defs/...``) are resolved.
"""

from __future__ import annotations

from typing import Any

__all__ = ["breaking_changes"]

Schema = dict[str, Any]

_MAX_DEPTH = 32


def _resolve(schema: Schema, root: Schema) -> Schema:
    seen = 0
    while "$ref" in schema:
        ref = schema["$ref"]
        if not isinstance(ref, str) or not ref.startswith("#/"):
            raise ValueError(f"only local $ref are supported, got {ref!r}")
        target: Any = root
        for part in ref[2:].split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        merged = {key: value for key, value in schema.items() if key != "$ref"}
        schema = {**target, **merged}
        seen += 1
        if seen > _MAX_DEPTH:
            raise ValueError(f"$ref loop at {ref}")
    return schema


def _branches(schema: Schema, root: Schema) -> dict[str, Schema]:
    """Map each JSON type the schema admits to the (resolved) sub-schema admitting it."""
    schema = _resolve(schema, root)
    out: dict[str, Schema] = {}
    for key in ("anyOf", "oneOf"):
        for option in schema.get(key, ()):
            for json_type, branch in _branches(option, root).items():
                out.setdefault(json_type, branch)
    if "allOf" in schema:
        for part in schema["allOf"]:
            for json_type, branch in _branches(part, root).items():
                out.setdefault(json_type, branch)
    declared = schema.get("type")
    if isinstance(declared, str):
        out.setdefault(declared, schema)
    elif isinstance(declared, list):
        for json_type in declared:
            out.setdefault(str(json_type), schema)
    elif "const" in schema or "enum" in schema:
        values = [schema["const"]] if "const" in schema else list(schema["enum"])
        for value in values:
            out.setdefault(_json_type_of(value), schema)
    if not out:
        out["any"] = schema
    return out


def _json_type_of(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _allowed_values(schema: Schema) -> set[str] | None:
    if "const" in schema:
        return {repr(schema["const"])}
    if "enum" in schema:
        return {repr(value) for value in schema["enum"]}
    return None


def _compare(
    path: str, old: Schema, old_root: Schema, new: Schema, new_root: Schema, depth: int
) -> list[str]:
    if depth > _MAX_DEPTH:
        return []
    problems: list[str] = []
    old_branches = _branches(old, old_root)
    new_branches = _branches(new, new_root)
    if "any" in new_branches:
        return problems
    old_types = set(old_branches)
    new_types = set(new_branches)
    where = path or "<root>"
    if old_types != new_types:
        problems.append(f"{where}: type changed from {sorted(old_types)} to {sorted(new_types)}")
    for json_type in sorted(old_types & new_types):
        old_branch = old_branches[json_type]
        new_branch = new_branches[json_type]
        if old_branch.get("format") != new_branch.get("format"):
            problems.append(
                f"{where}: format changed from {old_branch.get('format')!r} "
                f"to {new_branch.get('format')!r}"
            )
        old_values = _allowed_values(old_branch)
        new_values = _allowed_values(new_branch)
        if old_values is not None and new_values is not None:
            removed = sorted(old_values - new_values)
            if removed:
                problems.append(f"{where}: enum values removed: {', '.join(removed)}")
        elif old_values is None and new_values is not None:
            problems.append(f"{where}: restricted to the values {sorted(new_values)}")
        if json_type == "object":
            problems += _compare_object(path, old_branch, old_root, new_branch, new_root, depth)
        elif json_type == "array" and "items" in old_branch and "items" in new_branch:
            problems += _compare(
                f"{path}[]",
                old_branch["items"],
                old_root,
                new_branch["items"],
                new_root,
                depth + 1,
            )
    return problems


def _compare_object(
    path: str, old: Schema, old_root: Schema, new: Schema, new_root: Schema, depth: int
) -> list[str]:
    problems: list[str] = []
    old_props: dict[str, Schema] = old.get("properties", {})
    new_props: dict[str, Schema] = new.get("properties", {})
    old_required = set(old.get("required", ()))
    prefix = f"{path}." if path else ""
    for name in sorted(old_props):
        if name not in new_props:
            problems.append(f"{prefix}{name}: field removed")
            continue
        problems += _compare(
            f"{prefix}{name}", old_props[name], old_root, new_props[name], new_root, depth + 1
        )
    for name in sorted(set(new.get("required", ())) - old_required):
        if name in old_props:
            problems.append(f"{prefix}{name}: optional field became required")
        else:
            problems.append(f"{prefix}{name}: new field is required")
    return problems


def breaking_changes(old_schema: dict[str, Any], new_schema: dict[str, Any]) -> list[str]:
    """Every change from ``old_schema`` to ``new_schema`` that breaks producers or consumers of
    the old one; an empty list means the new schema is a compatible (additive) evolution.
    """
    return _compare("", old_schema, old_schema, new_schema, new_schema, 0)
