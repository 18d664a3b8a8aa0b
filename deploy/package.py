"""Builds the Lambda package (`make cloud-package`): one zip for every function of deploy/realtime.yaml and
deploy/http.yaml, holding this repository's `engagements` and `cloud` packages and the dependencies that
Lambda's Python 3.12 lacks, installed for Lambda's CPU. Lambda's runtime brings boto3 (and botocore,
s3transfer); the zip never carries them.

    python deploy/package.py [--arch arm64|x86_64] [--output artifacts/cloud-lambda.zip]

The zip is reproducible: the same sources and dependency versions give the same bytes (entries sorted,
timestamps and permissions fixed, no bytecode). `engagements` finds its engagement types through entry
points, so the zip carries a small `engagements-<version>.dist-info` with the project's entry points.
"""

from __future__ import annotations

import argparse
import stat
import subprocess
import sys
import tempfile
import tomllib
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REQUIREMENTS = ROOT / "deploy" / "lambda-requirements.txt"
PACKAGES = ("engagements", "cloud")  # `cloud` is packaged when present
PYTHON_VERSION = "3.12"  # the functions' Runtime, python3.12
# Lambda's Python 3.12 runs on Amazon Linux 2023 (glibc 2.34): manylinux2014 and manylinux_2_28 wheels fit.
PLATFORMS = {
    "arm64": ("manylinux2014_aarch64", "manylinux_2_28_aarch64"),
    "x86_64": ("manylinux2014_x86_64", "manylinux_2_28_x86_64"),
}
PROVIDED_BY_RUNTIME = ("boto3", "botocore", "s3transfer")
FIXED_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest a zip can say
FILE_MODE = (stat.S_IFREG | 0o644) << 16  # a regular file, readable by the runtime's user
SKIPPED_PARTS = {"__pycache__"}
SKIPPED_SUFFIXES = {".pyc", ".pyo"}


def source_entries(root: Path = ROOT, packages: Sequence[str] = PACKAGES) -> dict[str, Path]:
    """Archive name → file, for every file of the packages present under `root` (bytecode aside)."""
    entries: dict[str, Path] = {}
    for package in packages:
        base = root / package
        if not (base / "__init__.py").is_file():
            continue
        for path in base.rglob("*"):
            relative = path.relative_to(root)
            if path.is_file() and not _skipped(relative):
                entries[relative.as_posix()] = path
    return entries


def _skipped(relative: Path) -> bool:
    return bool(SKIPPED_PARTS & set(relative.parts)) or relative.suffix in SKIPPED_SUFFIXES


def metadata_entries(pyproject: Path = ROOT / "pyproject.toml") -> dict[str, bytes]:
    """The project's dist-info, enough for importlib.metadata to find its entry points."""
    project = tomllib.loads(pyproject.read_text())["project"]
    name, version = project["name"], project["version"]
    info = f"{name.replace('-', '_')}-{version}.dist-info"
    metadata = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
    groups = project.get("entry-points", {})
    entry_points = "".join(
        f"[{group}]\n" + "".join(f"{key} = {value}\n" for key, value in sorted(points.items())) + "\n"
        for group, points in sorted(groups.items())
    )
    return {f"{info}/METADATA": metadata.encode(), f"{info}/entry_points.txt": entry_points.encode()}


def install_dependencies(
    requirements: Path, target: Path, arch: str, pip_options: Sequence[str] = ()
) -> dict[str, Path]:
    """Installs `requirements` for Lambda's platform into `target`; archive name → file of what to ship."""
    platforms = [option for platform in PLATFORMS[arch] for option in ("--platform", platform)]
    command = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--no-compile",  # bytecode of the build machine's Python would not be reproducible, nor 3.12's
        "--target",
        str(target),
        *platforms,
        "--implementation",
        "cp",
        "--python-version",
        PYTHON_VERSION,
        "--only-binary=:all:",
        "--requirement",
        str(requirements),
        *pip_options,
    ]
    subprocess.run(command, check=True)
    entries: dict[str, Path] = {}
    for path in target.rglob("*"):
        relative = path.relative_to(target)
        top = relative.parts[0]
        if not path.is_file() or _skipped(relative) or top == "bin" or _provided(top):
            continue  # console scripts (bin/) name the build machine's Python: of no use in Lambda
        entries[relative.as_posix()] = path
    return entries


def _provided(top: str) -> bool:
    name = top.split("-", 1)[0].lower() if top.endswith(".dist-info") else top.lower()
    return name in PROVIDED_BY_RUNTIME


def write_zip(files: dict[str, Path], generated: dict[str, bytes], output: Path) -> None:
    """A zip whose bytes depend only on the entries' names and contents."""
    clash = files.keys() & generated.keys()
    if clash:
        raise ValueError(f"two entries with one name: {sorted(clash)}")
    output.parent.mkdir(parents=True, exist_ok=True)
    contents: Iterable[tuple[str, bytes | Path]] = [*files.items(), *generated.items()]
    partial = output.with_name(output.name + ".partial")
    with zipfile.ZipFile(partial, "w") as archive:
        for name, content in sorted(contents, key=lambda entry: entry[0]):
            info = zipfile.ZipInfo(name, date_time=FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # unix, so the permissions below are read as such
            info.external_attr = FILE_MODE
            data = content.read_bytes() if isinstance(content, Path) else content
            archive.writestr(info, data, compresslevel=9)
    partial.replace(output)


def build(
    output: Path,
    arch: str = "arm64",
    requirements: Path = REQUIREMENTS,
    root: Path = ROOT,
    pip_options: Sequence[str] = (),
) -> Path:
    with tempfile.TemporaryDirectory(prefix="cloud-package-") as scratch:
        dependencies = install_dependencies(requirements, Path(scratch), arch, pip_options)
        sources = source_entries(root)
        clash = dependencies.keys() & sources.keys()
        if clash:
            raise ValueError(f"a dependency ships files of this repository's packages: {sorted(clash)[:5]}")
        write_zip({**dependencies, **sources}, metadata_entries(root / "pyproject.toml"), output)
    return output


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--arch", choices=sorted(PLATFORMS), default="arm64")
    parser.add_argument("--output", type=Path, default=ROOT / "artifacts" / "cloud-lambda.zip")
    parser.add_argument("--requirements", type=Path, default=REQUIREMENTS)
    parser.add_argument(
        "--pip-option",
        action="append",
        default=[],
        help="passed to pip install, e.g. --pip-option=--no-index",
    )
    args = parser.parse_args(argv)
    output = build(args.output, args.arch, args.requirements, pip_options=args.pip_option)
    with zipfile.ZipFile(output) as archive:
        count = len(archive.infolist())
    print(f"{output}: {count} files, {output.stat().st_size / 1e6:.1f} MB, for {args.arch}")


if __name__ == "__main__":
    main()
