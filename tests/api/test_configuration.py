"""Configuration: placeholder keys are refused naming the variable; unset, the embedded defaults."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from bot.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("variable", ["TELNYX_API_KEY", "ELEVENLABS_API_KEY", "OPENAI_API_KEY"])
@pytest.mark.parametrize("value", ["your_telnyx_key", "your_elevenlabs_key", "changeme", "<your key>"])
def test_placeholder_keys_are_refused_naming_the_variable(monkeypatch, variable, value):
    monkeypatch.setenv(variable, value)
    with pytest.raises(ValidationError) as info:
        Settings(_env_file=None)
    assert variable in str(info.value)


def test_unset_keys_mean_local_stand_ins_and_an_embedded_database(monkeypatch, tmp_path):
    for name in ("DATABASE_URL", "TELNYX_API_KEY", "ELEVENLABS_API_KEY", "OPENAI_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    settings = Settings(_env_file=None)
    assert settings.database_url == f"sqlite+aiosqlite:///{tmp_path / 'coldcall' / 'coldcall.db'}"
    assert settings.uses_carrier_twin and settings.uses_offline_voice and settings.uses_scripted_responder


def test_env_file_is_read(monkeypatch, tmp_path):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    env = tmp_path / ".env"
    env.write_text("DATABASE_URL=postgresql+asyncpg://u@127.0.0.1/x\nOPENAI_MODEL=gpt-4o\n", encoding="utf-8")
    settings = Settings(_env_file=env)
    assert settings.database_url == "postgresql+asyncpg://u@127.0.0.1/x" and settings.openai_model == "gpt-4o"


def test_cli_refuses_a_placeholder_with_a_sentence_not_a_traceback(tmp_path):
    env = {**os.environ, "TELNYX_API_KEY": "your_telnyx_key", "XDG_DATA_HOME": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-m", "api.cli", "db", "upgrade"],
        cwd=tmp_path, env={**env, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 2
    assert "TELNYX_API_KEY" in result.stderr and "placeholder" in result.stderr
    assert "Traceback" not in result.stderr
