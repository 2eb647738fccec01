"""Live gauges of workers that died without saying so (killed, out of memory) are dropped by the next start-up."""

import os

from app import observability


def test_a_dead_workers_live_gauges_are_forgotten(tmp_path, monkeypatch):
    monkeypatch.setenv(observability.MULTIPROC_ENV, str(tmp_path))
    dead, alive = 2**22 + 12345, os.getpid()  # above any pid this machine hands out
    names = [f"gauge_livesum_{dead}.db", f"gauge_livemostrecent_{dead}.db", f"gauge_livesum_{alive}.db",
             f"counter_{dead}.db"]
    for name in names:
        (tmp_path / name).write_bytes(b"")
    observability.forget_dead_workers()
    assert sorted(os.listdir(tmp_path)) == sorted([f"gauge_livesum_{alive}.db", f"counter_{dead}.db"])
