"""The moto patches can be upgraded: the pin is checked, each patch is shown to be needed, docstrings hold.

Each patch's tests live in tests/unit/moto_patches/; here each patch is left
out in turn (a fresh process each, since patches are process-wide) and its
needs_patch tests must all fail without it.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from app.local import moto_patches

ROOT = Path(__file__).resolve().parents[2]
PATCH_TESTS = ROOT / "tests" / "unit" / "moto_patches"
# A file a docstring or comment names: with its folders (from the root), or bare (beside it or at the root).
NAMED_FILE = re.compile(r"(?<![\w./-])(?:[\w.-]+/)*[\w-]+\.(?:py|md|yml|yaml|toml|js|json|sh|txt|html|css)\b")


def test_the_pinned_release_passes_the_check():
    moto_patches.check_version(moto_patches.PINNED_MOTO_VERSION, environ={})


@pytest.mark.parametrize("found", ["5.2.4", "5.2.6", "6.0.0", "5.2.5.dev1"])
def test_any_other_release_is_refused(found):
    with pytest.raises(moto_patches.UnsupportedMoto, match=f"found {re.escape(found)}"):
        moto_patches.check_version(found, environ={})


def test_the_upgrade_check_can_let_another_release_through():
    moto_patches.check_version("6.0.0", environ={moto_patches.ANY_VERSION_VARIABLE: "1"})
    with pytest.raises(moto_patches.UnsupportedMoto):
        moto_patches.check_version("6.0.0", environ={moto_patches.ANY_VERSION_VARIABLE: ""})


def test_the_pin_is_the_installed_release_and_pyproject_s():
    assert importlib.metadata.version("moto") == moto_patches.PINNED_MOTO_VERSION
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    pins = {spec for specs in dependencies.values() for spec in specs if spec.startswith("moto")}
    assert pins == {f"moto[server]=={moto_patches.PINNED_MOTO_VERSION}"}


def apply_in_a_fresh_process(moto_version: str, **environ: str) -> subprocess.CompletedProcess[str]:
    """apply() where moto reports ``moto_version``."""
    code = (
        "import moto; moto.__version__ = sys.argv[1]\n"
        "from app.local import moto_patches; moto_patches.apply(); print('applied')"
    )
    return subprocess.run(
        [sys.executable, "-c", f"import sys\n{code}", moto_version],
        cwd=ROOT,
        env={**os.environ, moto_patches.ANY_VERSION_VARIABLE: "", **environ},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_apply_refuses_another_release_unless_told():
    refused = apply_in_a_fresh_process("99.0.0")
    assert refused.returncode != 0
    assert "UnsupportedMoto" in refused.stderr and "found 99.0.0" in refused.stderr
    allowed = apply_in_a_fresh_process("99.0.0", **{moto_patches.ANY_VERSION_VARIABLE: "1"})
    assert allowed.returncode == 0 and "applied" in allowed.stdout, allowed.stderr


def test_apply_refuses_a_patch_it_does_not_know():
    with pytest.raises(ValueError, match="no_such_patch"):
        moto_patches.apply(skip={"no_such_patch"})


def test_every_patch_module_is_applied_and_has_its_test_file():
    modules = {path.stem for path in (ROOT / "app" / "local" / "moto_patches").glob("*.py")} - {"__init__"}
    assert set(moto_patches.PATCHES) == modules
    assert len(moto_patches.PATCHES) == len(set(moto_patches.PATCHES))
    assert {f"test_{name}.py" for name in modules} <= {path.name for path in PATCH_TESTS.glob("test_*.py")}


def test_docs_local_md_says_what_each_patch_is_for():

    rows = {}
    for line in (ROOT / "docs" / "local.md").read_text().splitlines():
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if len(cells) == 4 and cells[0].startswith("`"):
            rows[cells[0].strip("`")] = cells[1]
    purposes = {
        name: importlib.import_module(f"app.local.moto_patches.{name}").PURPOSE
        for name in moto_patches.PATCHES
    }
    assert rows == purposes
    kinds = {"correctness", "missing feature", "memory", "speed"}
    assert all(set(purpose.split(", ")) <= kinds for purpose in purposes.values())


def test_the_local_runtime_names_only_files_that_exist():
    missing = []
    for source in sorted((ROOT / "app" / "local").rglob("*.py")):
        for named in NAMED_FILE.findall(source.read_text()):
            if not ((ROOT / named).exists() or (source.parent / named).exists()):
                missing.append(f"{source.relative_to(ROOT)}: {named}")
    assert missing == []


@pytest.mark.parametrize("patch", moto_patches.PATCHES)
def test_each_patch_has_tests_that_fail_without_it(patch):
    run = subprocess.run(
        [sys.executable, "-m", "pytest", str(PATCH_TESTS), "-q", "-p", "no:cacheprovider", "-rX"],
        cwd=ROOT,
        env={**os.environ, "MOTO_PATCHES_WITHOUT": patch},
        capture_output=True,
        text=True,
        timeout=600,
    )
    # Each needs_patch test is a strict xfail without the patch: one that passes fails the run.
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert re.search(r"\b\d+ xfailed\b", run.stdout), run.stdout[-2000:]


# --- make check-moto-latest's verdicts ---------------------------------------------------

_spec = importlib.util.spec_from_file_location("check_moto_latest", ROOT / "scripts" / "check_moto_latest.py")
assert _spec and _spec.loader
check_moto_latest = importlib.util.module_from_spec(_spec)
sys.modules["check_moto_latest"] = check_moto_latest  # dataclasses look their module up while it runs
_spec.loader.exec_module(check_moto_latest)


@pytest.mark.parametrize(
    ("apply_error", "with_patch", "without", "verdict"),
    [
        (None, [("t", "passed")], {"p": [("t", "xfailed")]}, "still needed"),
        (
            None,
            [("t", "passed"), ("u", "passed")],
            {"p": [("t", "xfailed"), ("u", "xpassed")]},
            "still needed",
        ),
        (None, [("t", "passed")], {"p": [("t", "xpassed")]}, "obsolete"),
        ("AttributeError: no update_item", [], {}, "broken"),
        (None, [("t", "failed")], {}, "broken"),
        (None, [("t", "passed")], "ImportError in conftest", "broken"),
        (None, [("t", "passed")], {"p": []}, "broken"),
        (None, [("t", "passed")], {"p": [("t", "failed")]}, "broken"),
    ],
)
def test_a_patch_is_still_needed_obsolete_or_broken(apply_error, with_patch, without, verdict):
    assert check_moto_latest.classify("p", apply_error, with_patch, without).verdict == verdict


def test_the_report_tells_a_failure_without_the_patch_from_a_pass(tmp_path):
    (tmp_path / "test_p.py").write_text(
        "import pytest\n"
        "xfail = pytest.mark.xfail(strict=True)\n"
        "@xfail\ndef test_fails():\n    assert False\n"
        "@xfail\ndef test_passes():\n    pass\n"
        "def test_plain():\n    pass\n"
    )
    report = tmp_path / "report.xml"
    subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={report}",
         "--rootdir", str(tmp_path), "-c", "/dev/null", str(tmp_path)],
        capture_output=True, timeout=120,
    )  # fmt: skip
    assert sorted(check_moto_latest.read_outcomes(report)["p"]) == [
        ("test_fails", "xfailed"),
        ("test_passes", "xpassed"),
        ("test_plain", "passed"),
    ]
