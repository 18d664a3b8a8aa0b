"""The command line: every option documented, config files honoured, mistakes named plainly."""

from __future__ import annotations

from pathlib import Path

import click
from click.testing import CliRunner

from web.cli import main

ROOT = Path(__file__).parent.parent
DOCS = "\n".join((ROOT / p).read_text() for p in ("README.md", "docs/operations.md"))


def test_every_command_line_option_and_its_environment_variable_is_documented():
    for name, command in main.commands.items():
        for param in command.params:
            if not isinstance(param, click.Option) or param.name == "help":
                continue
            flag = max(param.opts, key=len)
            assert f"`{flag}" in DOCS or f" {flag}" in DOCS, f"engagements {name} {flag} is not documented"
            if isinstance(param.envvar, str):
                assert param.envvar in DOCS, f"{param.envvar} is not documented"


def test_config_file_gives_defaults_and_the_command_line_wins(tmp_path):
    config = tmp_path / "engagements.toml"
    config.write_text(f'[sync]\ndata-dir = "{tmp_path / "from-config"}"\n')
    runner = CliRunner()
    result = runner.invoke(
        main, ["--config", str(config), "sync", "--dry-run"], env={"ENGAGEMENTS_DATA_DIR": None}
    )
    assert result.exit_code == 1
    assert f"no appliance data at {tmp_path / 'from-config' / 'engagements.db'}" in result.output
    result = runner.invoke(
        main, ["--config", str(config), "sync", "--dry-run", "--data-dir", str(tmp_path / "cli")]
    )
    assert f"no appliance data at {tmp_path / 'cli' / 'engagements.db'}" in result.output


def test_a_broken_config_file_is_refused_with_its_name(tmp_path):
    config = tmp_path / "broken.toml"
    config.write_text("[sync\n")
    result = CliRunner().invoke(main, ["--config", str(config), "sync", "--dry-run"])
    assert result.exit_code == 2 and "broken.toml" in result.output


def test_serve_refuses_auto_sync_without_a_cloud_table():
    result = CliRunner().invoke(
        main, ["serve", "--auto-sync", "--no-mdns"], env={"ENGAGEMENTS_CLOUD_TABLE": None}
    )
    assert result.exit_code == 2 and "--table or --stack" in result.output


def test_serve_rejects_a_malformed_public_url_and_mdns_interface():
    result = CliRunner().invoke(main, ["serve", "--public-url", "ftp://x"])
    assert result.exit_code == 2 and "http://" in result.output
    result = CliRunner().invoke(main, ["serve", "--mdns-interfaces", "eth0"])
    assert result.exit_code == 2 and "invalid mDNS interface address" in result.output
