"""deploy/package.py (`make cloud-package`): the Lambda zip holds this repository's packages, the entry points
that find the engagement types, and dependencies installed for Lambda's CPU, never boto3; and it is
reproducible.

No network: the dependencies come from wheels this test writes into a local folder (pip with --no-index),
a platform-specific one per CPU, so the test sees which one pip chose. `make cloud-package` itself installs
the pinned deploy/lambda-requirements.txt from PyPI.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("package", ROOT / "deploy" / "package.py")
assert _spec and _spec.loader
package = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(package)


def write_wheel(
    folder: Path, name: str, tag: str, files: dict[str, str], requires: tuple[str, ...] = ()
) -> None:
    """A minimal valid wheel, as a build backend would write it."""
    info = f"{name}-1.0.dist-info"
    metadata = f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n" + "".join(
        f"Requires-Dist: {r}\n" for r in requires
    )
    purelib = str(tag == "py3-none-any").lower()
    contents = {
        **files,
        f"{info}/METADATA": metadata,
        f"{info}/WHEEL": f"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: {purelib}\nTag: {tag}\n",
    }

    def digest(text: str) -> str:
        raw = hashlib.sha256(text.encode()).digest()
        return "sha256=" + base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    record = "".join(f"{path},{digest(text)},{len(text.encode())}\n" for path, text in contents.items())
    with zipfile.ZipFile(folder / f"{name}-1.0-{tag}.whl", "w") as wheel:
        for path, text in contents.items():
            wheel.writestr(path, text)
        wheel.writestr(f"{info}/RECORD", record + f"{info}/RECORD,,\n")


@pytest.fixture(scope="module")
def wheelhouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("wheels")
    # "native" stands for a compiled dependency: one wheel per CPU, telling which it is.
    for platform in ("manylinux2014_aarch64", "manylinux2014_x86_64"):
        write_wheel(
            folder, "native", f"cp312-cp312-{platform}", {"native/__init__.py": f"CPU = {platform!r}\n"}
        )
    # A dependency that pulls in boto3, which Lambda's runtime already has.
    write_wheel(folder, "boto3", "py3-none-any", {"boto3/__init__.py": "raise ImportError('not this one')\n"})
    write_wheel(
        folder,
        "helper",
        "py3-none-any",
        {"helper/__init__.py": "", "bin/helper": "#!/usr/bin/python"},
        ("boto3",),
    )
    (folder / "requirements.txt").write_text("native==1.0\nhelper==1.0\n")
    return folder


def build(wheelhouse: Path, output: Path, arch: str = "arm64") -> Path:
    return package.build(
        output,
        arch,
        requirements=wheelhouse / "requirements.txt",
        pip_options=["--no-index", "--find-links", str(wheelhouse)],
    )


@pytest.fixture(scope="module")
def built(wheelhouse: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(wheelhouse, tmp_path_factory.mktemp("out") / "cloud-lambda.zip")


def names(zip_path: Path) -> list[str]:
    with zipfile.ZipFile(zip_path) as archive:
        return [info.filename for info in archive.infolist()]


def test_the_zip_holds_the_repositorys_packages_and_the_dependencies(built: Path) -> None:
    inside = set(names(built))
    repository = {
        path.relative_to(ROOT).as_posix()
        for name in ("engagements", "cloud")
        if (ROOT / name / "__init__.py").is_file()
        for path in (ROOT / name).rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    }
    assert "engagements/engine.py" in repository and "engagements/packs/office-party.json" in repository
    assert {n for n in inside if n.split("/")[0] in ("engagements", "cloud")} == repository
    assert {
        "native/__init__.py",
        "helper/__init__.py",
        "engagements-0.1.0.dist-info/entry_points.txt",
    } <= inside
    tops = {n.split("/")[0] for n in inside}
    assert not tops & {"boto3", "boto3-1.0.dist-info", "bin", "web", "sync", "tests", "deploy"}
    assert not [n for n in inside if "__pycache__" in n or n.endswith(".pyc")]


@pytest.mark.parametrize(("arch", "platform"), [("arm64", "aarch64"), ("x86_64", "x86_64")])
def test_dependencies_are_the_wheels_for_lambdas_cpu(
    wheelhouse: Path, tmp_path: Path, arch: str, platform: str
) -> None:
    output = build(wheelhouse, tmp_path / "cloud-lambda.zip", arch)
    with zipfile.ZipFile(output) as archive:
        assert archive.read("native/__init__.py").decode() == f"CPU = 'manylinux2014_{platform}'\n"


def test_the_zip_is_reproducible(built: Path, wheelhouse: Path, tmp_path: Path) -> None:
    again = build(wheelhouse, tmp_path / "again.zip")
    assert again.read_bytes() == built.read_bytes()
    with zipfile.ZipFile(built) as archive:
        infos = archive.infolist()
    assert [i.filename for i in infos] == sorted(i.filename for i in infos)
    assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}
    assert {i.external_attr >> 16 for i in infos} == {0o100644}


def test_the_unpacked_zip_alone_finds_the_engagement_types(built: Path, tmp_path: Path) -> None:
    """As Lambda runs it: the zip's root on the path, no site-packages, nothing from this checkout."""
    unpacked = tmp_path / "task"
    with zipfile.ZipFile(built) as archive:
        archive.extractall(unpacked)
    code = (
        f"import sys; sys.path.insert(0, {str(unpacked)!r}); "
        "from engagements.plugins import load_types; import engagements, native; "
        "print(','.join(sorted(load_types())), engagements.__file__.startswith(sys.path[0]), native.CPU)"
    )
    result = subprocess.run(
        [sys.executable, "-S", "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["answer-vote,poll,qa,quiz,word-cloud", "True", "manylinux2014_aarch64"]


def test_the_lambda_requirements_are_pinned_and_leave_boto3_to_the_runtime() -> None:
    lines = [line.split("#")[0].strip() for line in package.REQUIREMENTS.read_text().splitlines()]
    requirements = [line for line in lines if line]
    assert requirements and all("==" in line for line in requirements)
    assert not {line.split("==")[0].lower() for line in requirements} & {"boto3", "botocore", "s3transfer"}
