"""The command line: importing a file stores and assesses its events, once per dyad per batch."""

from pathlib import Path

from sqlalchemy import func, select

from app import cli
from app.database import make_engine, make_sessionmaker
from app.events.models import Event
from app.risk.models import Assessment

FIXTURE = Path(__file__).parent / "importers" / "fixtures" / "acled_sample.csv"


def _count(url: str, model) -> int:
    engine = make_engine(url)
    with make_sessionmaker(engine)() as s:
        n = s.scalar(select(func.count()).select_from(model))
    engine.dispose()
    return n


def test_import_stores_and_assesses_and_is_idempotent(settings, monkeypatch, capsys):
    monkeypatch.setattr(cli, "get_settings", lambda: settings)
    assert cli.main(["import", "acled", str(FIXTURE)]) == 0
    out = capsys.readouterr().out
    assert "skipped" in out
    events = _count(settings.resolved_database_url, Event)
    assessments = _count(settings.resolved_database_url, Assessment)
    assert events >= 5 and assessments > 0
    assert cli.main(["import", "acled", str(FIXTURE)]) == 0  # re-import: nothing new
    assert _count(settings.resolved_database_url, Event) == events
    assert _count(settings.resolved_database_url, Assessment) == assessments


def test_import_refuses_unknown_format_and_missing_file(settings, monkeypatch, capsys):
    monkeypatch.setattr(cli, "get_settings", lambda: settings)
    assert cli.main(["import", "nope", str(FIXTURE)]) == 2
    assert "unknown import format" in capsys.readouterr().err
    assert cli.main(["import", "acled", "/nonexistent.csv"]) == 2
    assert "no such file" in capsys.readouterr().err


def test_import_accepts_a_folder_of_gdelt_exports(settings, monkeypatch, capsys, tmp_path):
    source = Path(__file__).resolve().parents[1].parent / "shared/data/gdelt2-sample/gdelt2_events_20201113.csv"
    if not source.is_file():
        import pytest

        pytest.skip("../shared/data is not beside the checkout")
    folder = tmp_path / "gdelt"
    folder.mkdir()
    (folder / "part.csv").write_text("".join(source.open(encoding="utf-8").readlines()[:40]), encoding="utf-8")
    monkeypatch.setattr(cli, "get_settings", lambda: settings)
    assert cli.main(["import", "gdelt", str(folder)]) == 0
    assert _count(settings.resolved_database_url, Event) > 0


def test_train_and_evaluate_take_their_own_options(capsys):
    import pytest

    for command in (["evaluate", "--help"], ["train", "--", "--help"]):
        with pytest.raises(SystemExit) as stop:
            cli.main(command)
        assert stop.value.code == 0
        assert f"usage: {command[0]}" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        cli.main(["serve", "--bogus"])


def test_import_into_a_fresh_embedded_database_migrates_it_first(monkeypatch, tmp_path):
    from app.config import Settings

    fresh = Settings(data_dir=tmp_path / "fresh")
    monkeypatch.setattr(cli, "get_settings", lambda: fresh)
    assert cli.main(["import", "acled", str(FIXTURE)]) == 0
    assert _count(fresh.resolved_database_url, Event) > 0
