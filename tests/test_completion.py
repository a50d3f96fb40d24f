"""Shell completion through click's own protocol, as bash, zsh and fish call it back."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.test_dashboard import seed
from yellowtui.cli import main

REPO = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_prints_the_script(shell: str) -> None:
    result = CliRunner().invoke(main, ["completion", shell])
    assert result.exit_code == 0
    assert "_YELLOWTUI_COMPLETE" in result.output and f"{shell}_complete" in result.output


def complete(words: str, tmp_path: Path, config: str, **env: str) -> list[str]:
    """What bash would be offered for the last word of ``words`` (click's ``bash_complete``)."""
    (tmp_path / "config.toml").write_text(config, encoding="utf-8")
    parts = words.split(" ")
    result = subprocess.run(
        [sys.executable, "-m", "yellowtui"],
        env={
            **os.environ,
            "PYTHONPATH": str(REPO),
            "YELLOW_CONFIG": str(tmp_path / "config.toml"),
            "_YELLOWTUI_COMPLETE": "bash_complete",
            "COMP_WORDS": words,
            "COMP_CWORD": str(len(parts) - 1),
            **env,
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return [line.split(",", 1)[1] for line in result.stdout.splitlines() if line]


def test_platforms_and_stream_keys_come_from_the_profiles_database(db_url: str, tmp_path: Path) -> None:
    seed(db_url, streams=5, bad=1)
    config = f'[profiles.default]\ndb_url = "{db_url}"\n'
    assert complete("yellowtui errors --platform yellow", tmp_path, config) == ["yellowforensic", "yellowlive"]
    assert complete("yellowtui config show --platform yellowlive Broken", tmp_path, config) == ["Broken0001_typo"]
    keys = complete("yellowtui config show Broken", tmp_path, config)
    assert keys == ["Broken0001_cron", "Broken0001_typo"], "without --platform: every platform's keys"


def test_profile_names_complete(tmp_path: Path) -> None:
    config = "[profiles.dev]\n[profiles.prod]\nread_only = true\n[profiles.staging]\n"
    assert complete("yellowtui --profile pr", tmp_path, config) == ["prod"]


def test_an_unreachable_database_completes_nothing_quickly(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    config = f'[profiles.default]\ndb_url = "postgresql://nobody@127.0.0.1:{port}/x"\n'
    started = time.monotonic()
    assert complete("yellowtui errors --platform ", tmp_path, config) == []
    assert time.monotonic() - started < 10  # the interpreter's start-up included; the database costs at most 1 s
