"""``/metrics`` with several workers reads every worker's metrics file: a file a worker has
just created (still empty), or left empty when it was killed at that instant, does not fail
the answer, and the other workers' samples are all there."""

from __future__ import annotations

from pathlib import Path

import pytest
from prometheus_client.mmap_dict import MmapedDict, mmap_key
from sotay_kit import metrics


def _worker_file(directory: Path, pid: int, value: float) -> None:
    d = MmapedDict(str(directory / f"counter_{pid}.db"))
    name = "sotay_test_handled"
    d.write_value(mmap_key(name, f"{name}_total", ["service"], ["meetings"], "Handled."), value, 0)
    d.close()


def test_an_empty_worker_file_is_left_out(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(metrics.MULTIPROC_ENV, str(tmp_path))
    _worker_file(tmp_path, 101, 3)
    _worker_file(tmp_path, 102, 4)
    (tmp_path / "counter_103.db").touch()  # created, not sized yet (or killed right then)
    (tmp_path / "gauge_livesum_104.db").touch()
    body = metrics.latest().decode()
    assert 'sotay_test_handled_total{service="meetings"} 7.0' in body
