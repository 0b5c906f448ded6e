"""The `coldcall` data commands through the real CLI, on a fresh embedded SQLite database."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from api.cli import app


@pytest.fixture
def cli_env(tmp_path, monkeypatch) -> dict[str, str]:
    for name in ("TELNYX_API_KEY", "ELEVENLABS_API_KEY", "OPENAI_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    return {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}", "XDG_DATA_HOME": str(tmp_path)}


def test_db_profiles_demo_data_and_import(cli_env, tmp_path):
    runner = CliRunner()
    result = runner.invoke(app, ["db", "upgrade"], env=cli_env)
    assert result.exit_code == 0 and "upgraded to head" in result.output

    result = runner.invoke(app, ["profiles", "create", "Ventas Madrid"], env=cli_env)
    assert result.exit_code == 0, result.output
    assert re.search(r"API key \(shown once, store it now\): cc_\S{40,}", result.output)

    result = runner.invoke(app, ["demo-data"], env=cli_env)
    assert result.exit_code == 0, result.output
    campaign_id = re.search(r"Campaign \(draft\): .* \(([0-9a-f-]{36})\) with 20 prospects", result.output).group(1)

    csv = tmp_path / "prospectos.csv"
    csv.write_bytes("nombre;teléfono\nÁngela Muñoz;612 111 222\nRepetida;600 55 50 00\n".encode("latin-1"))
    result = runner.invoke(app, ["prospects", "import", campaign_id, str(csv)], env=cli_env)
    assert result.exit_code == 0, result.output
    assert "2 rows read: 1 imported, 1 duplicates skipped, 0 with errors." in result.output

    result = runner.invoke(app, ["prospects", "import", "not-a-uuid", str(csv)], env=cli_env)
    assert result.exit_code == 1 and "not a campaign id" in result.output
    assert "Traceback" not in result.output

    result = runner.invoke(app, ["db", "downgrade", "base"], env=cli_env)
    assert result.exit_code == 0 and "downgraded to base" in result.output
