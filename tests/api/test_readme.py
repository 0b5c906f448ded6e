"""The README's configuration section names every environment variable of the settings object."""

from __future__ import annotations

from pathlib import Path

from bot.settings import Settings

README = Path(__file__).resolve().parents[2] / "README.md"


def test_every_setting_is_documented():
    text = README.read_text(encoding="utf-8")
    section = text.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    missing = [name.upper() for name in Settings.model_fields if f"`{name.upper()}`" not in section]
    assert not missing, f"README's Configuration section does not document: {', '.join(missing)}"
