"""The Lambda functions' lock files, made from pyproject.toml by `uv pip compile`.

    requirements-api.txt       the api function: [project.dependencies] and the api extra
    requirements-pipeline.txt  every other function: [project.dependencies] alone,
                               at the versions of the api's lock

Every package, transitive ones included, is pinned with the hashes of its
files, for Linux, macOS and Windows and Python 3.11+ (a universal resolution):
the same file builds the Lambda artefacts (serverless.yml, custom.lambdaPython)
and installs .venv, so tests run what ships.

    .venv/bin/python scripts/lambda_locks.py            rewrite both (make lock)
    .venv/bin/python scripts/lambda_locks.py --upgrade  and move every package to its newest version

Rewriting keeps the versions already locked unless pyproject.toml asks for
others. tests/deploy/test_locks.py fails when a lock and pyproject.toml disagree.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOCKS = {
    "api": (ROOT / "requirements-api.txt", ["--extra", "api"]),
    # Constrained by the api's lock: a package both ship is the same version in both.
    "pipeline": (ROOT / "requirements-pipeline.txt", ["--constraint", "requirements-api.txt"]),
}
OPTIONS = ["--universal", "--python-version", "3.11", "--generate-hashes", "--quiet"]
COMMAND = "make lock"
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*(?:\[[^\]]*\])?==[^\s\\]+(?:\s*;[^\\]+)?)")


def uv() -> str:
    found = shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv")
    if found is None:
        raise SystemExit("uv is not installed: make .venv (pyproject.toml [dev]) or pip install uv")
    return found


def compile_lock(name: str, output: Path, upgrade: bool = False) -> None:
    """Write the lock ``name`` to ``output``; versions already in ``output`` are kept where they still fit."""
    _, extra = LOCKS[name]
    command = [uv(), "pip", "compile", "pyproject.toml", *extra, *OPTIONS, "--output-file", str(output)]
    if upgrade:
        command.append("--upgrade")
    subprocess.run(command, cwd=ROOT, check=True, env={**os.environ, "UV_CUSTOM_COMPILE_COMMAND": COMMAND})


def pins(lock: Path) -> list[str]:
    """``name==version ; markers`` of every package in a lock, sorted (hashes and comments aside)."""
    found = []
    for line in lock.read_text().splitlines():
        match = _PIN.match(line)
        if match:
            found.append(re.sub(r"\s+", " ", match.group(1)).strip())
    return sorted(found)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--upgrade", action="store_true", help="newest versions pyproject.toml allows")
    args = parser.parse_args()
    for name, (path, _) in LOCKS.items():
        compile_lock(name, path, upgrade=args.upgrade)
        print(f"{path.name}: {len(pins(path))} packages", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
