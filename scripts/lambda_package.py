"""Finish each function's Lambda artefact: its locked Python packages, and bytecode.

Run by scripts/serverless-lambda-python.js inside `osls package` (and deploy),
with the Python of the functions' runtime (3.13), after the framework has
zipped each function's code. For every function it:

- installs the packages of its lock file (requirements-<package>.txt) as
  Lambda's runtime needs them: wheels for its Python and CPU, every file
  checked against the lock's hashes, no dependency resolved beyond the lock;
  boto3, botocore and what only they need are left out (the runtime has them);
- compiles every module, the function's code and the packages, to
  unchecked-hash .pyc: Lambda unzips with reset file times, which would make
  timestamp-based .pyc stale (and recompiled on every cold start); each .pyc
  names its source as Lambda sees it (/var/task/...), never the build folder;
- rewrites the zip (sorted, fixed times and modes: the same inputs give the
  same bytes, so a redeploy of the same commit uploads nothing) and writes
  lambda-python.json beside the artefacts: per function its package, lock,
  size, sha256 and the versions it ships.

Installed packages are cached per lock, Python and platform under
~/.cache/async-app-lambda (LAMBDA_PACKAGE_CACHE elsewhere). Standard library only.

    python3.13 scripts/lambda_package.py < plan.json     (the plugin writes the plan)
    python3.13 scripts/lambda_package.py --site LOCK --arch x86_64 --provided boto3 ...
        prints the folder of LOCK's packages for another CPU (scripts/bench_cold_start.py)
"""

from __future__ import annotations

import compileall
import hashlib
import io
import json
import os
import py_compile
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib.util import MAGIC_NUMBER
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Beside the artefacts (.serverless/ unless `osls package --package DIR`).
MANIFEST_NAME = "lambda-python.json"
# Where Lambda unpacks an artefact: the path compiled into every .pyc
# (co_filename, what tracebacks show), whatever folder packaging ran in, so
# that the same inputs give the same bytes.
LAMBDA_TASK_ROOT = "/var/task"
# Part of the cache key: bump it when the way a cached folder is made changes.
BUILD_VERSION = "2"
PROJECT = "async-app (pyproject.toml)"
ZIP_TIME = (1980, 1, 1, 0, 0, 0)
# manylinux tags the Lambda runtime's glibc (2.34, Amazon Linux 2023) can load.
MANYLINUX = ("manylinux2014", "manylinux_2_28", "manylinux_2_34")


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass
class Locked:
    """One package of a lock file as uv writes it: the pin, its hashes, and who needs it (# via)."""

    name: str
    requirement: str
    hashes: list[str] = field(default_factory=list)
    via: set[str] = field(default_factory=set)

    @property
    def version(self) -> str:
        return self.requirement.split("==", 1)[1].split(";", 1)[0].strip()

    def as_requirement(self) -> str:
        return " \\\n    ".join([self.requirement, *(f"--hash={h}" for h in self.hashes)])


def read_lock(path: Path) -> dict[str, Locked]:
    entries: dict[str, Locked] = {}
    current: Locked | None = None
    for raw in path.read_text().splitlines():
        line = raw.strip().rstrip("\\").strip()
        if not line:
            continue
        if not raw[0].isspace() and not line.startswith("#"):
            name = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", line)
            if not name or "==" not in line:
                raise ValueError(f"{path.name}: not a pinned requirement: {line!r}")
            current = entries[normalize(name.group(0))] = Locked(normalize(name.group(0)), line)
        elif current is None:
            continue  # the header
        elif line.startswith("--hash="):
            current.hashes.append(line.removeprefix("--hash="))
        elif line.startswith("#"):
            parent = line.lstrip("#").strip().removeprefix("via").strip()
            if parent and not parent.startswith("-c "):
                current.via.add(parent if parent == PROJECT else normalize(parent))
    return entries


def shipped(lock: dict[str, Locked], provided: Iterable[str]) -> list[Locked]:
    """What the artefact needs: the project's dependencies and theirs, except through a provided package.

    A package needed only by a provided one (botocore's urllib3) is the
    runtime's too, and stays out.
    """
    skip = {normalize(name) for name in provided}
    needs: dict[str, set[str]] = {}
    for entry in lock.values():
        for parent in entry.via:
            needs.setdefault(parent, set()).add(entry.name)
    found: set[str] = set()
    todo = [name for name in needs.get(PROJECT, ()) if name not in skip]
    while todo:
        name = todo.pop()
        if name not in found:
            found.add(name)
            todo += [child for child in needs.get(name, ()) if child not in skip]
    return [lock[name] for name in sorted(found)]


def pip_target(python_version: str, arch: str) -> list[str]:
    """pip options that pick wheels for the Lambda runtime, whatever machine this is."""
    machine = {"arm64": "aarch64", "x86_64": "x86_64"}[arch]
    platforms = [f"--platform={tag}_{machine}" for tag in MANYLINUX]
    return [*platforms, "--implementation=cp", f"--python-version={python_version}", "--only-binary=:all:"]


def cache_root() -> Path:
    configured = os.environ.get("LAMBDA_PACKAGE_CACHE")
    if configured:
        return Path(configured)
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "async-app-lambda"


def installed_packages(entries: list[Locked], python_version: str, arch: str) -> Path:
    """A folder with exactly these packages for the runtime, compiled; made once per lock and platform."""
    requirements = "".join(f"{entry.as_requirement()}\n" for entry in entries)
    options = [
        "--no-deps",
        "--require-hashes",
        "--no-compile",
        "--disable-pip-version-check",
        "--no-input",
        *pip_target(python_version, arch),
    ]
    key = hashlib.sha256("\n".join([BUILD_VERSION, sys.version, *options, requirements]).encode())
    target = cache_root() / f"site-{key.hexdigest()[:24]}"
    if (target / ".complete").exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as work:
        staging = Path(work) / "site"
        requirements_file = Path(work) / "requirements.txt"
        requirements_file.write_text(requirements)
        command = [sys.executable, "-m", "pip", "install", "--quiet", "--target", str(staging), *options]
        subprocess.run([*command, "-r", str(requirements_file)], check=True)
        shutil.rmtree(staging / "bin", ignore_errors=True)  # console scripts: nothing runs them
        compile_tree(staging)
        (staging / ".complete").touch()
        shutil.rmtree(target, ignore_errors=True)
        staging.rename(target)
    return target


def compile_tree(folder: Path) -> None:
    """Unchecked-hash .pyc beside every module (in __pycache__), as this Python imports them.

    Each names its source under LAMBDA_TASK_ROOT, not under ``folder`` (a temporary one).
    """
    ok = compileall.compile_dir(
        folder,
        ddir=LAMBDA_TASK_ROOT,
        quiet=2,
        workers=1,
        invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
    )
    if not ok:
        # A package may ship files that are not Python of this version (templates, tests of
        # other versions); those stay uncompiled, and deploy_check lists them.
        print(f"lambda_package: some files in {folder} did not compile", file=sys.stderr)


def _zip_info(name: str, mode: int) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
    # Readable by all, executable where it was: not the packaging machine's umask.
    mode = 0o755 if mode & 0o111 else 0o644
    info.external_attr = (mode | 0o100000) << 16
    info.create_system = 3  # Unix, whatever machine packages
    info.compress_type = zipfile.ZIP_DEFLATED
    return info


def _files(folder: Path) -> dict[str, Path]:
    return {
        path.relative_to(folder).as_posix(): path
        for path in folder.rglob("*")
        if path.is_file() and path.name != ".complete"
    }


def rebuild(artifact: Path, packages: Path) -> int:
    """Rewrite a function's zip: its code (compiled) and the packages. Returns the unpacked size."""
    with tempfile.TemporaryDirectory() as work:
        code = Path(work)
        with zipfile.ZipFile(artifact) as framework_zip:
            for info in framework_zip.infolist():
                if info.is_dir() or "__pycache__/" in info.filename or info.filename.endswith(".pyc"):
                    continue
                path = code / info.filename
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(framework_zip.read(info))
                path.chmod(((info.external_attr >> 16) & 0o777) or 0o644)
        compile_tree(code)
        files = _files(packages)
        clashes = set(files) & set(_files(code))
        if clashes:
            raise SystemExit(f"{artifact.name}: code and packages both have {sorted(clashes)[:5]}")
        files.update(_files(code))
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", compresslevel=9) as out:
            for name in sorted(files):
                out.writestr(_zip_info(name, files[name].stat().st_mode), files[name].read_bytes())
        artifact.write_bytes(buffer.getvalue())
        return sum(path.stat().st_size for path in files.values())


def distributions(folder: Path) -> dict[str, str]:
    """name -> version of what pip installed there (a lock entry whose markers exclude this Python is not)."""
    found = {}
    for info in folder.glob("*.dist-info"):
        name, version = info.name.removesuffix(".dist-info").rsplit("-", 1)
        found[normalize(name)] = version
    return dict(sorted(found.items()))


def main() -> int:
    if "--site" in sys.argv:
        return print_site(sys.argv[1:])
    plan = json.load(sys.stdin)
    python_version = plan["pythonVersion"]
    if f"{sys.version_info.major}.{sys.version_info.minor}" != python_version:
        raise SystemExit(
            f"lambda_package: run by Python {sys.version.split()[0]}, the runtime is {python_version}"
        )
    artifacts = {(ROOT / function["artifact"]).resolve().parent for function in plan["functions"]}
    if len(artifacts) != 1:
        raise SystemExit(f"lambda_package: artefacts in more than one folder: {sorted(map(str, artifacts))}")
    manifest_path = artifacts.pop() / MANIFEST_NAME
    manifest = {
        "python": sys.executable,
        "python_version": sys.version.split()[0],
        "pyc_magic": MAGIC_NUMBER.hex(),
        "architecture": plan["architecture"],
        "provided": plan["provided"],
        "functions": {},
    }
    for function in plan["functions"]:
        lock_path = ROOT / function["lock"]
        entries = shipped(read_lock(lock_path), plan["provided"])
        packages = installed_packages(entries, python_version, plan["architecture"])
        artifact = ROOT / function["artifact"]
        unpacked = rebuild(artifact, packages)
        manifest["functions"][function["name"]] = {
            "package": function["package"],
            "lock": function["lock"],
            "artifact": function["artifact"],
            "zip_bytes": artifact.stat().st_size,
            "sha256": hashlib.sha256(artifact.read_bytes()).hexdigest(),
            "unpacked_bytes": unpacked,
            "packages": distributions(packages),
        }
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n")
    json.dump(manifest, sys.stdout)
    return 0


def print_site(argv: list[str]) -> int:
    import argparse

    parser = argparse.ArgumentParser()
    parser.add_argument("--site", type=Path, required=True)
    parser.add_argument("--arch", required=True, choices=["arm64", "x86_64"])
    parser.add_argument("--provided", action="append", default=[])
    args = parser.parse_args(argv)
    python_version = f"{sys.version_info.major}.{sys.version_info.minor}"
    print(installed_packages(shipped(read_lock(args.site), args.provided), python_version, args.arch))
    return 0


if __name__ == "__main__":
    sys.exit(main())
