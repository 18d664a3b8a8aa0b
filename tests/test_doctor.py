"""`engagements doctor` against real conditions: a fresh data directory, a port another program holds, the
running appliance (heard over mDNS, or not), a directory this user cannot write, a loose admin secret, a
low open-file limit, and the store's sync records before and after a real sync. mDNS stays on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import ctypes
import datetime
import json
import os
import re
import resource
import shutil
import socket
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from engagements import __version__
from tests.conftest import ADMIN_SECRET
from tests.test_sync import finished_game, run_sync
from web.doctor import (
    FAIL,
    OK,
    WARN,
    Finding,
    Records,
    clock_finding,
    disk_finding,
    report,
    sync_finding,
)
from web.mdns import discover
from web.network import lan_interfaces

# mDNS on loopback: one worker holds every such test, so no two responders race for 5353 (pyproject).
pytestmark = pytest.mark.xdist_group("mdns")

LOOPBACK = "127.0.0.1"
DAY = 86400 * 1000
CAPABILITIES_OVER_FILES = (1, 2, 3)  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER
PR_CAPBSET_DROP = 24


def environment(**extra: str) -> dict[str, str]:
    """This machine's environment without the appliance's options, mDNS kept on loopback."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ENGAGEMENTS_")}
    return {**env, "ENGAGEMENTS_MDNS_INTERFACES": LOOPBACK, **extra}


async def doctor(*args: str | Path, preexec=None, **extra: str) -> tuple[int, dict[str, dict]]:
    """`engagements doctor --json ARGS` in a process of its own: its exit status and findings by check."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "web.cli",
        "doctor",
        "--json",
        *map(str, args),
        env=environment(**extra),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        preexec_fn=preexec,
    )
    out, err = await proc.communicate()
    assert not err, err.decode()
    return proc.returncode or 0, {f["check"]: f for f in json.loads(out)["checks"]}


def free_port() -> int:
    with socket.socket() as s:
        s.bind((LOOPBACK, 0))
        return s.getsockname()[1]


async def test_a_fresh_machine_is_ready_and_nothing_is_made(tmp_path):
    data = tmp_path / "data"
    port = free_port()
    code, found = await doctor("--port", port, "--data-dir", data)
    assert code == 0, found
    assert list(found) == [
        "Port",
        "LAN address",
        "mDNS",
        "Disk",
        "Clock",
        "Data",
        "Admin secret",
        "Last sync",
        "Open files",
    ]
    assert found["Port"] == {
        "check": "Port",
        "status": OK,
        "detail": f"0.0.0.0:{port} is free: serve can listen there",
        "fix": "",
    }
    assert found["Data"]["status"] == OK and "does not exist yet" in found["Data"]["detail"]
    assert (
        found["Admin secret"]["status"] == OK and "made at the first start" in found["Admin secret"]["detail"]
    )
    assert found["Last sync"]["detail"] == "no games on this appliance yet"
    assert found["mDNS"]["status"] == OK and found["mDNS"]["detail"].startswith(f"can listen on {LOOPBACK}")
    free = shutil.disk_usage(tmp_path).free
    assert found["Disk"]["status"] == (OK if free > 1024**3 else WARN if free > 100 * 1024**2 else FAIL)
    interfaces = lan_interfaces()
    if interfaces:
        address, name = interfaces[0]
        assert found["LAN address"]["detail"].startswith(
            f"phones are sent to http://{address}:{port}/join ({name})"
        )
    else:
        assert (
            found["LAN address"]["status"] == WARN
            and "no network address but loopback" in found["LAN address"]["detail"]
        )
    assert not data.exists(), "doctor changes nothing"


async def test_a_port_another_program_holds_fails_with_what_to_do(tmp_path):
    with socket.socket() as holder:
        holder.bind((LOOPBACK, 0))
        holder.listen()
        port = holder.getsockname()[1]
        code, found = await doctor("--host", LOOPBACK, "--port", port, "--data-dir", tmp_path, "--no-mdns")
    assert code == 1
    assert found["Port"]["status"] == FAIL
    assert found["Port"]["detail"] == f"{LOOPBACK}:{port} is taken by another program"
    assert "another --port" in found["Port"]["fix"]
    assert found["LAN address"]["status"] == WARN, "serving on loopback only: no phone reaches it"


async def test_a_public_url_naming_another_machine_is_a_warning(tmp_path):
    url = "http://203.0.113.7:8080"  # TEST-NET-3: no machine's own address
    code, found = await doctor(
        "--public-url", url, "--data-dir", tmp_path, "--no-mdns", "--port", free_port()
    )
    assert code == 0
    assert found["LAN address"]["status"] == WARN
    assert found["LAN address"]["detail"] == (
        f"phones are sent to {url}/join (--public-url), but 203.0.113.7 is not an address of this machine"
    )


async def test_the_running_appliance_is_recognised_on_its_port_and_heard_over_mdns(server_process):
    name = f"Engagements doctor {uuid.uuid4().hex[:6]}"
    server = server_process("--mdns-interfaces", LOOPBACK, "--name", name)
    await server.start()
    for _ in range(10):  # announced a moment after HTTP listens
        if name in [f.name for f in await discover([LOOPBACK], 1.0)]:
            break
    code, found = await doctor("--host", LOOPBACK, "--port", server.port, "--data-dir", server.data_dir)
    assert code == 0, found
    assert found["Port"]["detail"] == f"Engagements {__version__} is running on {LOOPBACK}:{server.port}"
    assert found["mDNS"]["status"] == OK
    assert found["mDNS"]["detail"].startswith(f"announced on {LOOPBACK} as {name!r}")
    assert found["Data"]["status"] == OK and "of games" in found["Data"]["detail"]


async def test_an_appliance_not_heard_over_mdns_is_a_warning(server_process):
    server = server_process("--no-mdns")
    await server.start()
    code, found = await doctor("--host", LOOPBACK, "--port", server.port, "--data-dir", server.data_dir)
    assert code == 0
    assert found["Port"]["status"] == OK
    assert found["mDNS"]["status"] == WARN
    assert f"not the one running on port {server.port}" in found["mDNS"]["detail"]
    assert "--no-mdns" in found["mDNS"]["fix"]


def without_file_capabilities() -> None:
    """In the child, before exec: root loses what lets it write anywhere, so modes bind it as anyone."""
    libc = ctypes.CDLL(None, use_errno=True)
    for capability in CAPABILITIES_OVER_FILES:
        if libc.prctl(PR_CAPBSET_DROP, capability, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


async def test_a_data_directory_this_user_cannot_write_fails(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    preexec = without_file_capabilities if os.geteuid() == 0 else None
    try:
        code, found = await doctor("--data-dir", locked, "--no-mdns", "--port", free_port(), preexec=preexec)
        assert code == 1
        assert found["Data"]["status"] == FAIL and "is not writable by" in found["Data"]["detail"]
        assert "chown" in found["Data"]["fix"]

        code, found = await doctor(
            "--data-dir", locked / "games", "--no-mdns", "--port", free_port(), preexec=preexec
        )
        assert code == 1
        assert found["Data"]["status"] == FAIL
        assert found["Data"]["detail"].startswith(
            f"{locked / 'games'} cannot be made: {locked} is not writable"
        )
    finally:
        locked.chmod(0o755)


async def test_an_admin_secret_others_can_read_is_a_warning(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    secret = data / "admin-secret"
    secret.write_text(ADMIN_SECRET + "\n")
    secret.chmod(0o644)
    code, found = await doctor("--data-dir", data, "--no-mdns", "--port", free_port())
    assert code == 0
    assert found["Admin secret"]["status"] == WARN
    assert (
        found["Admin secret"]["detail"]
        == f"{secret} has mode 0644: other users of this machine can read the secret"
    )
    assert found["Admin secret"]["fix"].startswith(f"`chmod 600 {secret}`")
    secret.chmod(0o600)
    code, found = await doctor("--data-dir", data, "--no-mdns", "--port", free_port())
    assert found["Admin secret"]["status"] == OK


async def test_a_low_open_file_limit_is_a_warning(tmp_path):
    def low_limit() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (512, 512))

    code, found = await doctor("--data-dir", tmp_path, "--no-mdns", "--port", free_port(), preexec=low_limit)
    assert code == 0
    assert found["Open files"]["status"] == WARN
    assert found["Open files"]["detail"].startswith("up to 512 open files: connections capped at 384")
    assert "LimitNOFILE" in found["Open files"]["fix"]


async def test_the_last_sync_comes_from_the_stores_records(
    server, http, settings, cloud_table, moto_endpoint
):
    args = ("--host", LOOPBACK, "--port", settings.port, "--data-dir", settings.data_dir, "--no-mdns")
    code, found = await doctor(*args)
    assert found["Port"]["detail"].startswith(f"Engagements {__version__} is running")
    assert found["Last sync"] == {
        "check": "Last sync",
        "status": OK,
        "detail": "no finished games yet; never synced",
        "fix": "",
    }
    await finished_game(http)
    code, found = await doctor(*args)
    assert found["Last sync"]["status"] == OK, "it has only just finished"
    assert found["Last sync"]["detail"].startswith(
        "1 finished game not in the cloud yet, the oldest finished "
    )
    assert found["Last sync"]["detail"].endswith("; never synced")

    synced = run_sync(settings, "--table", cloud_table, "--endpoint-url", moto_endpoint)
    assert synced.returncode == 0, synced.stderr
    code, found = await doctor(*args)
    assert found["Last sync"]["status"] == OK
    assert found["Last sync"]["detail"].startswith("every finished game is in the cloud; last sync ")
    assert code == 0


def test_finished_games_waiting_a_day_for_the_cloud_are_a_warning():
    now = 1_800_000_000_000
    waiting = Records(last_sync=now - 3 * DAY, waiting=[now - 2 * DAY, now - DAY // 2], newest=now)
    finding = sync_finding(now, waiting)
    assert finding.status == WARN
    assert finding.detail == (
        "2 finished games not in the cloud yet, the oldest finished 2 days ago; last sync 3 days ago"
    )
    assert "engagements sync" in finding.fix
    assert sync_finding(now, Records(None, [now - DAY // 2], now)).status == OK


def test_a_clock_never_set_fails_and_one_that_went_back_warns():
    epoch = clock_finding(5_000, None)
    assert epoch.status == FAIL and "1970-01-01 00:00:05 UTC" in epoch.detail
    now = int(datetime.datetime(2026, 6, 1, 19, tzinfo=datetime.UTC).timestamp() * 1000)
    behind = clock_finding(now, now + DAY)
    assert behind.status == WARN
    assert "24 h before the newest game record (2026-06-02 19:00:00 UTC)" in behind.detail
    assert clock_finding(now, now - DAY).status == OK


def test_disk_space_below_the_thresholds_warns_then_fails(tmp_path):
    free = shutil.disk_usage(tmp_path).free
    assert disk_finding(tmp_path, warn_below=0, fail_below=0).status == OK
    assert disk_finding(tmp_path, warn_below=free + 1024**3, fail_below=0).status == WARN
    assert disk_finding(tmp_path / "not yet", warn_below=free * 2, fail_below=free * 2).status == FAIL


def test_the_report_has_one_line_per_check_and_what_to_do_under_each_problem():
    text = report(
        [
            Finding("Port", OK, "0.0.0.0:8080 is free"),
            Finding("Disk", FAIL, "10 MB free", "free some space"),
            Finding("Clock", WARN, "behind", "set it"),
        ]
    ).splitlines()
    assert text == [
        "OK    Port          0.0.0.0:8080 is free",
        "FAIL  Disk          10 MB free",
        "                    -> free some space",
        "WARN  Clock         behind",
        "                    -> set it",
        "1 failure, 1 warning.",
    ]


def test_the_command_says_ok_warn_or_fail_on_every_line_and_exits_by_the_worst(tmp_path):
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "web.cli",
            "doctor",
            "--data-dir",
            str(tmp_path),
            "--no-mdns",
            "--port",
            str(free_port()),
        ],
        capture_output=True,
        text=True,
        env=environment(),
        timeout=60,
    )
    lines = done.stdout.splitlines()
    assert lines[0].startswith(f"Engagements {__version__} doctor: port ")
    checks = [line for line in lines[1:-1] if not line.startswith(" ")]
    assert len(checks) == 9 and all(line.split()[0] in (OK, WARN, FAIL) for line in checks)
    assert done.returncode == (1 if any(line.startswith(FAIL) for line in checks) else 0)
    assert re.fullmatch(r"\d+ failures?, \d+ warnings?\.", lines[-1]), lines[-1]
