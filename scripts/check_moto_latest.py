"""Try the moto patches (app/local/moto_patches) on the newest moto: still needed, obsolete or broken?

``make check-moto-latest``. It installs the newest ``moto[server]`` from PyPI
(and the pytest and hypothesis this project pins) into a scratch venv, then,
with the pin check relaxed (MOTO_PATCHES_ANY_VERSION):

1. applies the patches one by one, in their order: one that raises is broken;
2. runs every patch's tests (tests/unit/moto_patches) with the patches applied:
   a patch whose tests fail is broken;
3. for each other patch, runs its ``needs_patch`` tests on moto without it
   (MOTO_PATCHES_WITHOUT): if they fail, the patch is still needed; if they
   pass, that release no longer needs it (obsolete).

and prints one row per patch. ``--python PATH`` checks the moto of that
interpreter instead (``.venv/bin/python``: the pinned one; every patch should
be still needed). Nothing here reaches GitHub; the venv goes in a temporary
folder unless ``--venv`` names one to keep. Exits 1 if a patch is broken.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.metadata
import json
import os
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.local import moto_patches  # noqa: E402 (the project's root on the path first)

PATCH_TESTS = ROOT / "tests" / "unit" / "moto_patches"
# What the patch tests need besides moto, at the versions this project uses.
TEST_TOOLS = ("pytest", "hypothesis")
APPLY_ONE_BY_ONE = """
import importlib, json, sys
import moto
failed = {}
for name in sys.argv[1:]:
    try:
        importlib.import_module("app.local.moto_patches." + name).apply()
    except Exception as exc:
        failed[name] = f"{type(exc).__name__}: {exc}"
print(json.dumps({"moto": moto.__version__, "failed": failed}))
"""


@dataclass
class Verdict:
    patch: str
    verdict: str
    detail: str


def run(command: list[str], **environ: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), moto_patches.ANY_VERSION_VARIABLE: "1", **environ}
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=1800)


def make_venv(folder: Path, moto_version: str | None) -> Path:
    """A venv in ``folder`` with moto[server] (newest, or that version) and the test tools."""
    python = folder / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(folder)], check=True)
    tools = []
    for tool in TEST_TOOLS:
        try:
            tools.append(f"{tool}=={importlib.metadata.version(tool)}")
        except importlib.metadata.PackageNotFoundError:
            tools.append(tool)
    moto = f"moto[server]=={moto_version}" if moto_version else "moto[server]"
    print(f"installing {moto} {' '.join(tools)} into {folder} ...", flush=True)
    command = [str(python), "-m", "pip", "install", "--quiet", "--upgrade", moto, *tools]
    installed = subprocess.run(command, capture_output=True, text=True)  # this machine's pip warns a lot
    if installed.returncode != 0:
        raise SystemExit(
            f"pip could not install {moto}:\n{installed.stdout[-2000:]}{installed.stderr[-3000:]}"
        )
    return python


Outcomes = dict[str, list[tuple[str, str]]]


def read_outcomes(report: Path) -> Outcomes:
    """A pytest JUnit report, per patch (test_<patch>.py): [(test, passed|failed|xfailed|xpassed|skipped)]."""
    outcomes: Outcomes = {}
    for case in ElementTree.parse(report).getroot().iter("testcase"):
        patch = case.get("classname", "").rsplit(".", 1)[-1].removeprefix("test_")
        outcome = "passed"
        for child in case:
            if child.tag in ("failure", "error"):
                # A strict xfail that passed is a failure whose message says so.
                outcome = "xpassed" if "XPASS(strict)" in child.get("message", "") else "failed"
            elif child.tag == "skipped":
                outcome = "xfailed" if child.get("type") == "pytest.xfail" else "skipped"
        outcomes.setdefault(patch, []).append((case.get("name", "?"), outcome))
    return outcomes


def test_outcomes(python: Path, report: Path, **environ: str) -> Outcomes | str:
    """Run the patch tests: their outcomes, or why they did not run (a conftest or collection error)."""
    done = run(
        [str(python), "-m", "pytest", str(PATCH_TESTS), "-q", "-p", "no:cacheprovider",
         "--confcutdir", str(PATCH_TESTS), f"--junitxml={report}"],
        **environ,
    )  # fmt: skip
    if done.returncode not in (0, 1) or not report.exists():
        return (done.stdout[-1500:] + done.stderr[-1500:]) or f"pytest exited with {done.returncode}"
    return read_outcomes(report)


def classify(name: str, apply_error: str | None, with_patch: list[tuple[str, str]], without: Any) -> Verdict:
    """The verdict on one patch: its apply error, its tests' outcomes with it, its need tests' without it."""
    if apply_error:
        return Verdict(name, "broken", f"does not apply: {apply_error}"[:160])
    failing = [test for test, outcome in with_patch if outcome == "failed"]
    if failing:
        return Verdict(name, "broken", f"fails with the patch: {', '.join(failing)}"[:160])
    if isinstance(without, str):
        return Verdict(name, "broken", "its tests do not run without it")
    results = without.get(name, [])
    still_fail = [test for test, outcome in results if outcome == "xfailed"]
    now_pass = [test for test, outcome in results if outcome == "xpassed"]
    if not results or len(still_fail) + len(now_pass) != len(results):
        return Verdict(name, "broken", f"no clear answer without it: {results}"[:160])
    if not still_fail:
        return Verdict(name, "obsolete", f"all {len(now_pass)} need test(s) pass without it")
    if now_pass:
        detail = (
            f"{len(still_fail)} of {len(results)} need tests fail without it; pass: {', '.join(now_pass)}"
        )
        return Verdict(name, "still needed", detail[:160])
    return Verdict(name, "still needed", f"{len(still_fail)} need test(s) fail without it")


def check(python: Path, scratch: Path) -> tuple[str, list[Verdict]]:
    applied = run([str(python), "-c", APPLY_ONE_BY_ONE, *moto_patches.PATCHES])
    if applied.returncode != 0:
        raise SystemExit(f"could not import moto in {python}:\n{applied.stderr[-3000:]}")
    answer = json.loads(applied.stdout.strip().splitlines()[-1])
    version, failed_to_apply = answer["moto"], answer["failed"]
    # Patches that do not apply stay out of every run: they are broken, the others still get an answer.
    skip = ",".join(failed_to_apply)
    with_patches = test_outcomes(python, scratch / "with.xml", MOTO_PATCHES_SKIP=skip)
    if isinstance(with_patches, str):
        raise SystemExit(f"the patch tests did not run with moto {version}:\n{with_patches}")
    verdicts = []
    for name in moto_patches.PATCHES:
        without: Outcomes | str = {}
        if name not in failed_to_apply and all(o != "failed" for _, o in with_patches.get(name, [])):
            report = scratch / f"without-{name}.xml"
            without = test_outcomes(python, report, MOTO_PATCHES_WITHOUT=name, MOTO_PATCHES_SKIP=skip)
        verdicts.append(classify(name, failed_to_apply.get(name), with_patches.get(name, []), without))
    return version, verdicts


def purpose_of(patch: str) -> str:
    return importlib.import_module(f"app.local.moto_patches.{patch}").PURPOSE


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--moto", help="this moto release instead of the newest")
    parser.add_argument("--venv", type=Path, help="build (or reuse) the scratch venv here, and keep it")
    parser.add_argument("--python", type=Path, help="check the moto of this interpreter; install nothing")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="check-moto-latest-") as temporary:
        scratch = Path(temporary)
        python = args.python or make_venv((args.venv or scratch / "venv").resolve(), args.moto)
        version, verdicts = check(python, scratch)
    print(f"\nmoto {version} (pinned: {moto_patches.PINNED_MOTO_VERSION}); the patches:")
    rows = [("patch", "for", "verdict", "detail")]
    rows += [(v.patch, purpose_of(v.patch), v.verdict, v.detail) for v in verdicts]
    widths = [max(len(row[column]) for row in rows) for column in range(3)]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row[:3], widths, strict=True)]
        print("  ".join([*cells, row[3]]))
    return 1 if any(v.verdict == "broken" for v in verdicts) else 0


if __name__ == "__main__":
    sys.exit(main())
