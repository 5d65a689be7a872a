"""The committed JSON Schemas and AsyncAPI document are what the models generate."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from sotay_contracts import ALL_EVENTS, PUBLIC_SUBJECTS, model_for
from sotay_contracts.generate import (
    ASYNCAPI_FILE,
    BASELINE_DIR,
    CONTRACTS_DIR,
    SCHEMAS_DIR,
    check,
    expected_files,
    main,
    write,
)


def test_committed_files_match_the_models() -> None:
    assert check() == [], "run: cd /work/main && uv run python -m sotay_contracts.generate"


def test_generation_is_deterministic() -> None:
    assert expected_files() == expected_files()
    for content in expected_files().values():
        assert content.endswith("\n")
        assert not content.endswith("\n\n")


def test_contracts_dir_is_located_from_the_package() -> None:
    assert (CONTRACTS_DIR / "pyproject.toml").is_file()
    assert (CONTRACTS_DIR / "src" / "sotay_contracts" / "generate.py").is_file()


def _copy_generated(tmp_path: Path) -> None:
    assert write(tmp_path)  # writes everything into an empty directory
    assert check(tmp_path) == []


def test_check_names_drifted_missing_and_stale_files(tmp_path: Path) -> None:
    _copy_generated(tmp_path)
    drifted = tmp_path / SCHEMAS_DIR / "documents.document.read.v1.json"
    drifted.write_text(drifted.read_text().replace("progress_percent", "progress_pct"))
    (tmp_path / ASYNCAPI_FILE).unlink()
    (tmp_path / SCHEMAS_DIR / "documents.document.gone.v1.json").write_text("{}\n")
    assert check(tmp_path) == [
        "asyncapi.yaml: missing",
        "schemas/documents.document.read.v1.json: differs from the models",
        "schemas/documents.document.gone.v1.json: no event model produces it (stale)",
    ]
    write(tmp_path)
    assert check(tmp_path) == []


def test_check_cli_exits_1_and_names_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([], root=tmp_path) == 0
    assert main(["--check"], root=tmp_path) == 0
    (tmp_path / SCHEMAS_DIR / "meetings.meeting.closed.v1.json").write_text("{}\n")
    assert main(["--check"], root=tmp_path) == 1
    err = capsys.readouterr().err
    assert "drifted: schemas/meetings.meeting.closed.v1.json: differs from the models" in err


def test_baseline_freezes_missing_files_and_never_overwrites(tmp_path: Path) -> None:
    assert main(["--baseline"], root=tmp_path) == 0
    frozen = sorted(p.name for p in (tmp_path / BASELINE_DIR).iterdir())
    assert frozen == sorted(f"{m.SUBJECT}.json" for m in ALL_EVENTS)
    released = tmp_path / BASELINE_DIR / "meetings.meeting.closed.v1.json"
    released.write_text('{"released": true}\n')
    (tmp_path / BASELINE_DIR / "meetings.rsvp.recorded.v1.json").unlink()
    assert main(["--baseline"], root=tmp_path) == 0
    assert released.read_text() == '{"released": true}\n'
    assert (tmp_path / BASELINE_DIR / "meetings.rsvp.recorded.v1.json").is_file()


def _schema(subject: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(
        (CONTRACTS_DIR / SCHEMAS_DIR / f"{subject}.json").read_text(encoding="utf-8")
    )
    return loaded


@pytest.mark.parametrize("model", ALL_EVENTS, ids=lambda m: m.SUBJECT)
def test_schema_file_identifies_the_event(model: Any) -> None:
    schema = _schema(model.SUBJECT)
    assert schema["$id"] == model.dataschema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["title"] == model.__name__
    assert schema["description"].startswith("Fires ")
    assert schema["x-cloudevents-type"] == model.ce_type()
    assert set(schema["properties"]) == set(model.model_fields)


def _asyncapi() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(
        (CONTRACTS_DIR / ASYNCAPI_FILE).read_text(encoding="utf-8")
    )
    return loaded


def test_asyncapi_has_one_channel_and_send_operation_per_subject() -> None:
    doc = _asyncapi()
    assert doc["asyncapi"] == "3.0.0"
    addresses = {channel["address"] for channel in doc["channels"].values()}
    assert addresses == {model.SUBJECT for model in ALL_EVENTS}
    assert len(doc["channels"]) == len(ALL_EVENTS)
    for key, channel in doc["channels"].items():
        operation = doc["operations"][f"send_{key}"]
        assert operation["action"] == "send"
        assert operation["channel"] == {"$ref": f"#/channels/{key}"}
        assert operation["x-producer"] == channel["address"].split(".")[0]
        (message_ref,) = channel["messages"].values()
        name = message_ref["$ref"].rsplit("/", 1)[1]
        message = doc["components"]["messages"][name]
        assert message["payload"] == {"$ref": f"#/components/schemas/{name}"}
        assert name in doc["components"]["schemas"]
        assert message["headers"]["allOf"][0] == {"$ref": "#/components/schemas/CloudEventHeaders"}
        ce_type = message["headers"]["allOf"][1]["properties"]["ce-type"]["const"]
        assert channel["address"] == model_for(ce_type).SUBJECT


def test_asyncapi_refs_all_resolve() -> None:
    doc = _asyncapi()

    def refs(node: Any) -> list[str]:
        if isinstance(node, dict):
            found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
            return found + [ref for value in node.values() for ref in refs(value)]
        if isinstance(node, list):
            return [ref for value in node for ref in refs(value)]
        return []

    all_refs = refs(doc)
    assert len(all_refs) > 3 * len(ALL_EVENTS)
    for ref in all_refs:
        assert ref.startswith("#/"), ref
        target: Any = doc
        for part in ref[2:].split("/"):
            assert part in target, ref
            target = target[part]


def test_asyncapi_marks_the_public_subjects_with_examples() -> None:
    doc = _asyncapi()
    public = set()
    for channel in doc["channels"].values():
        tags = {tag["name"] for tag in channel["tags"]}
        (message_ref,) = channel["messages"].values()
        message = doc["components"]["messages"][message_ref["$ref"].rsplit("/", 1)[1]]
        if "public" in tags:
            public.add(channel["address"])
            (example,) = message["examples"]
            model = model_for(example["headers"]["ce-type"])
            assert channel["address"] == model.SUBJECT
            assert example["headers"]["Nats-Msg-Id"] == example["headers"]["ce-id"]
            assert (
                model.model_validate(example["payload"]).aggregate_id()
                == (example["headers"]["ce-subject"])
            )
        else:
            assert "examples" not in message
    assert public == PUBLIC_SUBJECTS
