"""`engagements install-service`: the unit runs this installation's serve, confined to its data directory,
restarted when it fails, and systemd itself accepts it (`systemd-analyze verify`, where installed).

Nothing here needs systemd running: the user unit is written under a home directory of the test's own,
a system unit is only printed (`--dry-run`), and both are checked by systemd's own parser.
"""

from __future__ import annotations

import asyncio
import os
import pwd
import shlex
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest
from click.testing import CliRunner

from web.cli import main
from web.systemd import UNIT, unprivileged_ports_from

ENGAGEMENTS = Path(sys.executable).with_name("engagements")  # this venv's, as pipx's would be
CONFINED = (
    "NoNewPrivileges=yes",
    "ProtectSystem=strict",
    "PrivateTmp=yes",
    "ProtectHome=read-only",
    "PrivateDevices=yes",
    "SystemCallFilter=@system-service",
    "RestrictAddressFamilies=AF_INET AF_INET6 AF_NETLINK AF_UNIX",
)
ANALYZE = shutil.which("systemd-analyze")
needs_analyze = pytest.mark.skipif(
    ANALYZE is None,
    reason="systemd-analyze is not installed here: systemd's own check of the unit is skipped",
)


def install(*args: str, home: Path | None = None, **env: str | None) -> tuple[int, str, str]:
    """`engagements install-service ARGS` with HOME (and so the XDG directories) at `home`."""
    environment = {"HOME": str(home) if home else None, "XDG_CONFIG_HOME": None, "XDG_DATA_HOME": None}
    environment |= {"SUDO_USER": None, "ENGAGEMENTS_PORT": None, "ENGAGEMENTS_DATA_DIR": None, **env}
    result = CliRunner().invoke(main, ["install-service", *args], env=environment)
    return result.exit_code, result.stdout, result.stderr


def settings(unit: str) -> dict[str, list[str]]:
    """Each setting of the unit text, by name: its values in order (a name may be given more than once)."""
    found: dict[str, list[str]] = {}
    for line in unit.splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            name, value = line.split("=", 1)
            found.setdefault(name, []).append(value)
    return found


def service_account() -> str:
    """An account a system unit may run as: not root, not nobody (systemd refuses both)."""
    for account in pwd.getpwall():
        if 0 < account.pw_uid < 65534 and account.pw_name != "nobody":
            return account.pw_name
    pytest.skip("no account here but root and nobody")


def test_a_user_unit_runs_this_installation_confined_to_its_data_directory(tmp_path):
    home = tmp_path / "home"
    code, out, _ = install(home=home)
    assert code == 0, out
    data = home / ".local" / "share" / "engagements"
    unit_file = home / ".config" / "systemd" / "user" / UNIT
    unit = settings(unit_file.read_text())
    assert unit["ExecStart"] == [f"{ENGAGEMENTS} serve --port 8080 --data-dir {data}"]
    assert unit["ReadWritePaths"] == [str(data)], "its data directory is all it may write"
    assert all(line.split("=", 1)[1] in unit[line.split("=", 1)[0]] for line in CONFINED)
    assert unit["Restart"] == ["on-failure"] and unit["WantedBy"] == ["default.target"]
    assert "User" not in unit and "AmbientCapabilities" not in unit, "a user unit runs as its user"
    environment = home / ".config" / "engagements" / "engagements.env"
    assert unit["EnvironmentFile"] == [f"-{environment}"]
    assert stat.S_IMODE(environment.stat().st_mode) == 0o600, "an admin secret may be written in it"
    assert stat.S_IMODE(data.stat().st_mode) == 0o700, "made now: ReadWritePaths needs it to exist"
    assert "systemctl --user enable --now engagements" in out
    assert f"{ENGAGEMENTS} doctor --port 8080 --data-dir {data}" in out

    environment.write_text("ENGAGEMENTS_PUBLIC_URL=http://10.0.0.5:8080\n")
    code, out, _ = install("--port", "8081", home=home)
    assert code == 0 and "--port 8081" in unit_file.read_text()
    assert environment.read_text() == "ENGAGEMENTS_PUBLIC_URL=http://10.0.0.5:8080\n", "the admin's, kept"
    assert f"Kept {environment}" in out


async def test_the_units_command_line_starts_the_appliance(tmp_path, unused_tcp_port):
    """What systemd would run (less its confinement, which needs systemd) serves on the unit's port."""
    code, _, _ = install("--port", str(unused_tcp_port), home=tmp_path / "home")
    assert code == 0
    unit = settings((tmp_path / "home" / ".config" / "systemd" / "user" / UNIT).read_text())
    env = {**os.environ, "ENGAGEMENTS_NO_MDNS": "1", "ENGAGEMENTS_HOST": "127.0.0.1"}
    proc = await asyncio.create_subprocess_exec(
        *shlex.split(unit["ExecStart"][0]), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        async with aiohttp.ClientSession() as http:
            for _ in range(200):
                try:
                    async with http.get(f"http://127.0.0.1:{unused_tcp_port}/healthz") as r:
                        assert r.status == 200
                        break
                except aiohttp.ClientConnectionError:
                    assert proc.returncode is None
                    await asyncio.sleep(0.05)
            else:
                raise AssertionError("the unit's ExecStart did not serve")
    finally:
        proc.terminate()
        out = (await proc.communicate())[0].decode()
    assert (
        f"Data:          {tmp_path / 'home' / '.local' / 'share' / 'engagements' / 'engagements.db'}" in out
    )


def test_a_system_unit_runs_as_its_account_and_only_it_may_bind_a_low_port(tmp_path):
    account = service_account()
    code, out, err = install("--system", "--run-as", account, "--port", "80", "--dry-run")
    assert code == 0, out + err
    unit = settings(out)
    assert unit["User"] == [account]
    assert unit["ExecStart"] == [f"{ENGAGEMENTS} serve --port 80 --data-dir /var/lib/engagements"]
    assert unit["ReadWritePaths"] == ["/var/lib/engagements"]
    assert unit["AmbientCapabilities"] == unit["CapabilityBoundingSet"] == ["CAP_NET_BIND_SERVICE"]
    assert unit["After"] == unit["Wants"] == ["network-online.target"]
    assert unit["WantedBy"] == ["multi-user.target"]
    assert all(line.split("=", 1)[1] in unit[line.split("=", 1)[0]] for line in CONFINED)
    assert "nothing was written" in err and "/etc/systemd/system/engagements.service" in err

    code, out, _ = install("--system", "--run-as", account, "--port", "8080", "--dry-run")
    unit = settings(out)
    assert unit["AmbientCapabilities"] == unit["CapabilityBoundingSet"] == [""], "no capability at all"


def test_paths_with_blanks_quotes_and_percent_signs_stay_one_word(tmp_path):
    data = tmp_path / 'my "games" at 100%'
    code, out, _ = install("--system", "--run-as", service_account(), "--data-dir", str(data), "--dry-run")
    assert code == 0
    quoted = '"' + str(data).replace('"', '\\"').replace("%", "%%") + '"'
    unit = settings(out)
    assert unit["ReadWritePaths"] == [quoted]
    assert unit["ExecStart"][0].endswith(f"--data-dir {quoted}")


def test_mistakes_are_refused_plainly(tmp_path):
    home = tmp_path / "home"
    code, _, err = install("--system", "--run-as", "root", "--dry-run")
    assert code == 1 and "never needs root" in err
    code, _, err = install("--system", "--run-as", "no-such-user-here", "--dry-run")
    assert code == 1 and "no user 'no-such-user-here'" in err
    code, _, err = install("--run-as", "daemon", home=home)
    assert code == 2 and "--run-as is for --system units" in err
    if os.geteuid() == 0:
        code, _, err = install(home=home, SUDO_USER="pi")
        assert code == 2 and "run it as pi without sudo" in err
    if unprivileged_ports_from() > 80:
        code, _, err = install("--port", "80", home=home)
        assert code == 2 and "a user unit cannot listen on port 80" in err
    assert not home.exists(), "a refused install writes nothing"


@needs_analyze
@pytest.mark.parametrize("kind", ["--user", "--system"])
def test_systemd_accepts_the_unit(tmp_path, kind):
    data = tmp_path / "data dir"
    extra = ["--run-as", service_account(), "--port", "443"] if kind == "--system" else []
    code, out, _ = install(kind, *extra, "--data-dir", str(data), "--dry-run", home=tmp_path / "home")
    assert code == 0
    unit_file = tmp_path / UNIT
    unit_file.write_text(out)
    runtime = tmp_path / "runtime"  # a user manager's runtime directory, which the check needs
    runtime.mkdir(mode=0o700)
    scope = ["--user"] if kind == "--user" else []
    env = {**os.environ, "XDG_RUNTIME_DIR": str(runtime), "SYSTEMD_LOG_COLOR": "0"}
    assert ANALYZE is not None
    checked = subprocess.run(
        [ANALYZE, *scope, "verify", str(unit_file)], capture_output=True, text=True, env=env, timeout=60
    )
    assert (checked.returncode, checked.stdout + checked.stderr) == (0, ""), "systemd finds nothing to say"
    exposure = subprocess.run(
        [ANALYZE, *scope, "security", "--offline=true", "--threshold=40", str(unit_file)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    print(exposure.stdout.strip().splitlines()[-1])  # "Overall exposure level for engagements.service: …"
    assert exposure.returncode == 0, "exposure above 4.0 of 10 ('OK' is below 5)"
