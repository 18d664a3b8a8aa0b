"""`engagements install-service`: a systemd unit that starts the appliance at boot and restarts it.

A user unit by default (`~/.config/systemd/user/`): installing needs no root, the appliance runs as
the user who installed it (with `pipx`, as on a Raspberry Pi), and `loginctl enable-linger` starts it
at boot before anyone logs in. `--system` writes `/etc/systemd/system/` instead, run as `--run-as`
(never root), which may also bind a port below 1024. Either way it is confined to what it needs: its
data directory, the network, and nothing else writable; serve's other options go in an environment
file next to it, so that changing them needs no new unit.
"""

from __future__ import annotations

import errno
import os
import pwd
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path

import click

from engagements import __version__
from web.settings import Settings

UNIT = "engagements.service"
SYSTEM_UNITS = Path("/etc/systemd/system")
SYSTEM_DATA = Path("/var/lib/engagements")
SYSTEM_ENVIRONMENT = Path("/etc/engagements/engagements.env")
OPEN_FILES = 65536  # serve caps its connections below this (docs/operations.md, "Limits and protections")

# What the appliance needs from the kernel, and nothing more. Both kinds of unit get these; those that
# need a mount namespace work in a user unit through the user namespace systemd then makes.
HARDENING = """\
NoNewPrivileges=yes
ProtectSystem=strict
ReadWritePaths={data_dir}
ProtectHome=read-only
PrivateTmp=yes
PrivateDevices=yes
PrivateMounts=yes
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectClock=yes
ProtectHostname=yes
RestrictNamespaces=yes
RestrictRealtime=yes
RestrictSUIDSGID=yes
LockPersonality=yes
# IPv4 and IPv6 for HTTP and mDNS, netlink to list the interfaces, Unix sockets for the journal.
RestrictAddressFamilies=AF_INET AF_INET6 AF_NETLINK AF_UNIX
SystemCallArchitectures=native
SystemCallFilter=@system-service
SystemCallFilter=~@privileged @resources
SystemCallErrorNumber=EPERM
"""
# Only a system manager may do these: it drops the capabilities a user unit never had.
SYSTEM_HARDENING = """\
ProtectProc=invisible
RemoveIPC=yes
CapabilityBoundingSet={capabilities}
AmbientCapabilities={capabilities}
"""

ENVIRONMENT_TEMPLATE = """\
# Options for `engagements serve` run by {unit}, one VARIABLE=value a line (every option has one:
# `engagements serve --help`). The port and the data directory are the unit's own: run
# `engagements install-service` again to change them. Restart the service after a change here.
#
# The address in the QR code, when the detected one is wrong:
#ENGAGEMENTS_PUBLIC_URL=http://192.168.1.20:8080
# A chosen admin secret (12 characters or more); it also keeps the console link out of the journal:
#ENGAGEMENTS_ADMIN_SECRET=
# Announce over mDNS on these addresses only:
#ENGAGEMENTS_MDNS_INTERFACES=192.168.1.20
# Sync finished games to the cloud whenever the network allows:
#ENGAGEMENTS_AUTO_SYNC=1
#ENGAGEMENTS_CLOUD_STACK=engagements-prod
#AWS_REGION=eu-west-1
"""


@dataclass(frozen=True)
class Unit:
    command: list[str]  # how to run this installation's `engagements`
    data_dir: Path
    port: int
    environment_file: Path
    user: str | None = None  # the account a system unit runs as; None for a user unit

    @property
    def system(self) -> bool:
        return self.user is not None

    def render(self) -> str:
        words = [*self.command, "serve", "--port", str(self.port), "--data-dir", str(self.data_dir)]
        unit = [
            f"# The Engagements appliance, written by `engagements install-service` ({__version__}).",
            "# Run it again to change the port or the data directory; serve's other options go in",
            f"# {self.environment_file}.",
            "[Unit]",
            "Description=Engagements: live audience games on this network",
        ]
        if self.system:  # a user manager has no network targets (README: the QR code's address)
            unit += ["After=network-online.target", "Wants=network-online.target"]
        unit += [
            "# Never give up: what stopped it (no address yet, a full disk) may be put right unattended.",
            "StartLimitIntervalSec=0",
            "",
            "[Service]",
            "Type=exec",
            *([f"User={self.user}"] if self.system else []),
            "ExecStart=" + " ".join(_exec_word(word) for word in words),
            f"EnvironmentFile=-{_specifiers(str(self.environment_file))}",
            "Restart=on-failure",
            "RestartSec=3",
            "# serve stops on SIGTERM: mDNS goodbyes, sockets closed, every acknowledged answer on disk.",
            "TimeoutStopSec=20",
            f"LimitNOFILE={OPEN_FILES}",
            "UMask=0077",
            "",
            "# Confined: its data directory is all it may write, the network all it may reach.",
            HARDENING.format(data_dir=_quoted(str(self.data_dir))).rstrip("\n"),
        ]
        if self.system:
            capabilities = "CAP_NET_BIND_SERVICE" if self.port < 1024 else ""
            unit.append(SYSTEM_HARDENING.format(capabilities=capabilities).rstrip("\n"))
        unit += ["", "[Install]", f"WantedBy={'multi-user.target' if self.system else 'default.target'}"]
        return "\n".join(unit) + "\n"


def _specifiers(text: str) -> str:
    """systemd expands `%x` specifiers in most settings: a literal % is written %%."""
    if any(c in text for c in "\n\r\0"):
        raise click.ClickException(f"a path or name with a line break cannot go in a unit: {text!r}")
    return text.replace("%", "%%")


def _quoted(text: str) -> str:
    """One word of a systemd setting: quoted when it holds blanks, quotes or backslashes."""
    text = _specifiers(text)
    if not any(c in text for c in " \t\"'\\"):
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _exec_word(text: str) -> str:
    """One word of ExecStart=, where `$` also expands environment variables."""
    return _quoted(text).replace("$", "$$")


def this_command() -> list[str]:
    """This installation's `engagements`: the script beside the interpreter (a venv's, pipx's), which
    a later upgrade replaces in place; else the interpreter running the CLI module."""
    script = Path(sys.executable).with_name("engagements")
    if os.access(script, os.X_OK):
        return [str(script)]
    return [sys.executable, "-m", "web.cli"]


def _config_home() -> Path:
    return Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")


def user_paths() -> tuple[Path, Path, Path]:
    """A user unit's file, its default data directory and its environment file (XDG directories)."""
    data_home = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    config = _config_home()
    return (
        config / "systemd" / "user" / UNIT,
        data_home / "engagements",
        config / "engagements" / "engagements.env",
    )


def unprivileged_ports_from() -> int:
    """The lowest port a process without privileges may bind (1024 unless the system lowered it)."""
    try:
        return int(Path("/proc/sys/net/ipv4/ip_unprivileged_port_start").read_text())
    except (OSError, ValueError):
        return 1024


def _service_account(run_as: str | None) -> pwd.struct_passwd:
    name = run_as or os.environ.get("SUDO_USER") or pwd.getpwuid(os.getuid()).pw_name
    try:
        account = pwd.getpwnam(name)
    except KeyError:
        raise click.ClickException(f"no user {name!r} on this machine: --run-as an existing user") from None
    if account.pw_uid == 0:
        raise click.ClickException(
            "the appliance never needs root: --run-as a user "
            "(one of its own: `sudo useradd --system engagements`)"
        )
    return account


def _write(path: Path, text: str, mode: int) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        path.chmod(mode)
    except OSError as e:
        raise click.ClickException(
            f"cannot write {path}: {e.strerror}" + (": run it with sudo" if e.errno == errno.EACCES else "")
        ) from None


@click.command("install-service")
@click.option(
    "--user/--system",
    "user_unit",
    default=True,
    show_default=True,
    help="A unit of this user's systemd (no root needed), or of the whole system (sudo).",
)
@click.option(
    "--port",
    envvar="ENGAGEMENTS_PORT",
    type=click.IntRange(1, 65535),
    default=Settings.port,
    show_default=True,
)
@click.option(
    "--data-dir",
    envvar="ENGAGEMENTS_DATA_DIR",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where the games are kept [default: ~/.local/share/engagements; --system: /var/lib/engagements].",
)
@click.option("--run-as", metavar="USER", help="--system: the account it runs as [default: the sudo user].")
@click.option("--dry-run", is_flag=True, help="Print the unit; write nothing.")
def install_service(
    user_unit: bool, port: int, data_dir: Path | None, run_as: str | None, dry_run: bool
) -> None:
    """Install a systemd unit that runs `engagements serve` at boot and restarts it if it stops."""
    if user_unit:
        if run_as:
            raise click.UsageError("--run-as is for --system units: a user unit runs as its user")
        if os.geteuid() == 0 and os.environ.get("SUDO_USER") and not dry_run:
            raise click.UsageError(
                f"with sudo this would be root's unit: run it as {os.environ['SUDO_USER']} without sudo, "
                "or install a system unit with --system"
            )
        if port < unprivileged_ports_from():
            raise click.UsageError(
                f"a user unit cannot listen on port {port}: choose one above 1023, or install with --system"
            )
        path, default_data, environment = user_paths()
        account = None
    else:
        path, default_data, environment = SYSTEM_UNITS / UNIT, SYSTEM_DATA, SYSTEM_ENVIRONMENT
        account = _service_account(run_as)
    unit = Unit(
        command=this_command(),
        data_dir=(data_dir or default_data).absolute(),
        port=port,
        environment_file=environment,
        user=account.pw_name if account else None,
    )
    text = unit.render()
    if dry_run:
        click.echo(text, nl=False)
        click.echo(f"(dry run: this would be {path}; nothing was written)", err=True)
        return
    _write(path, text, 0o644)
    made_environment = not environment.exists()
    if made_environment:
        _write(environment, ENVIRONMENT_TEMPLATE.format(unit=UNIT), 0o600)  # a secret may go in it
    unit.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    if account is not None and os.geteuid() == 0:
        os.chown(unit.data_dir, account.pw_uid, account.pw_gid)
    click.echo(next_steps(unit, path, made_environment))


def next_steps(unit: Unit, path: Path, made_environment: bool) -> str:
    """What to type next: reload, enable and start, and check."""
    systemctl = "sudo systemctl" if unit.system else "systemctl --user"
    journal = "sudo journalctl -u engagements -f" if unit.system else "journalctl --user -u engagements -f"
    doctor = shlex.join([*unit.command, "doctor", "--port", str(unit.port), "--data-dir", str(unit.data_dir)])
    if unit.system:
        doctor = f"sudo -u {shlex.quote(unit.user or '')} {doctor}"
    lines = [
        f"Wrote {path}: serve on port {unit.port}, games kept in {unit.data_dir}.",
        f"{'Made' if made_environment else 'Kept'} {unit.environment_file} for serve's other options.",
        "Start it now and at every boot:",
        f"  {systemctl} daemon-reload",
        f"  {systemctl} enable --now engagements",
    ]
    user = pwd.getpwuid(os.getuid()).pw_name
    if not unit.system and not Path("/var/lib/systemd/linger", user).exists():
        lines.append(f"  sudo loginctl enable-linger {user}    # start at boot, before anyone logs in")
    lines += [
        "Then check it:",
        f"  {doctor}",
        f"  {journal}    # its log; the host console link is in it",
    ]
    return "\n".join(lines)
