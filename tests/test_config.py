"""`.env.example` lists every setting with its default, and the service reads a `.env` file as it says."""

import re
from pathlib import Path

from app.config import REPO_ROOT, Settings

EXAMPLE = REPO_ROOT / ".env.example"


def _listed() -> dict[str, str]:
    return dict(re.findall(r"^#ESCALATION_(\w+)=(.*)$", EXAMPLE.read_text(), flags=re.M))


def _shown(default) -> str:
    if default is None:
        return ""
    if isinstance(default, bool):
        return str(default).lower()
    if isinstance(default, Path):
        return default.name  # relative in the example: the checkout's data/ and models/
    return str(default)


def test_the_example_lists_every_setting_with_its_default():
    listed = _listed()
    fields = {name.upper(): field.default for name, field in Settings.model_fields.items()}
    assert set(listed) == set(fields), (set(fields) - set(listed), set(listed) - set(fields))
    for name, default in fields.items():
        assert listed[name] == _shown(default), name


def test_each_listed_setting_has_a_line_of_meaning():
    """Right above it, or above the settings it is listed with; a section title is not one."""
    lines = EXAMPLE.read_text().splitlines()
    for i, line in enumerate(lines):
        if line.startswith("#ESCALATION_"):
            above = next(lines[j] for j in range(i - 1, -1, -1) if not lines[j].startswith("#ESCALATION_"))
            assert above.startswith("# ") and not above.startswith("# ---") and len(above) > 10, line


def test_a_dot_env_file_is_read_and_the_environment_wins(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("ESCALATION_PORT=8123\nESCALATION_WORKERS=3\n")
    monkeypatch.delenv("ESCALATION_PORT", raising=False)
    monkeypatch.setenv("ESCALATION_WORKERS", "2")
    settings = Settings()
    assert settings.port == 8123 and settings.workers == 2
