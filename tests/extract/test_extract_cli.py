"""`escalation extract`: prints a /v1/events/batch body, or stores the drafts through the import's write flow."""

import json


from app import cli
from app.config import REPO_ROOT
from app.events.models import Event
from tests.test_cli import _count

SEED = REPO_ROOT.parent / "shared" / "seed" / "2024-01-pakistan-iran-strikes.txt"


def test_extract_prints_a_batch_body_and_stores_nothing(settings, monkeypatch, capsys):
    monkeypatch.setattr(cli, "get_settings", lambda: settings)
    assert cli.main(["extract", str(SEED), "--published-on", "2024-01-18"]) == 0
    captured = capsys.readouterr()
    items = json.loads(captured.out)["items"]
    assert {(e["actor1"]["country"], e["location"]["country"], e["occurred_on"]) for e in items} == {
        ("IRN", "IRQ", "2024-01-15"), ("IRN", "SYR", "2024-01-15"), ("IRN", "PAK", "2024-01-16"),
        ("PAK", "IRN", "2024-01-18")}
    assert "unresolved (no date for this act)" in captured.err
    assert _count(settings.resolved_database_url, Event) == 0


def test_extract_post_stores_and_is_idempotent(settings, monkeypatch, capsys):
    monkeypatch.setattr(cli, "get_settings", lambda: settings)
    assert cli.main(["extract", str(SEED), "--published-on", "2024-01-18", "--post"]) == 0
    assert "created 4" in capsys.readouterr().out
    assert cli.main(["extract", str(SEED), "--published-on", "2024-01-18", "--post"]) == 0
    assert "unchanged 4" in capsys.readouterr().out
    assert _count(settings.resolved_database_url, Event) == 4


def test_extract_refuses_bad_input(settings, monkeypatch, capsys, tmp_path):
    monkeypatch.setattr(cli, "get_settings", lambda: settings)
    assert cli.main(["extract", str(tmp_path / "missing.txt"), "--published-on", "2024-01-18"]) == 2
    assert cli.main(["extract", str(SEED), "--published-on", "18 Jan"]) == 2
    binary = tmp_path / "report.bin"
    binary.write_bytes(b"\xff\xfe\x00\x01 not text")
    assert cli.main(["extract", str(binary), "--published-on", "2024-01-18"]) == 3
    empty = tmp_path / "empty.txt"
    empty.write_text("  \n")
    assert cli.main(["extract", str(empty), "--published-on", "2024-01-18"]) == 3
    calm = tmp_path / "calm.txt"
    calm.write_text("Markets were calm in Islamabad this week.")
    assert cli.main(["extract", str(calm), "--published-on", "2024-01-18", "--post"]) == 3
    assert _count(settings.resolved_database_url, Event) == 0
