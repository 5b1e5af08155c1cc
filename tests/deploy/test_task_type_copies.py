"""Adding a task type is one new module: the framework itself, reading serverless.yml, follows it.

Each test copies the project's configuration (serverless.yml, its scripts, app/ and workers/) to
a scratch folder, changes workers/tasks/ there, and has osls resolve the configuration, as a
package or deploy would (`osls print`: the same variable resolution, no artefacts built).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.deploy.packaged import ROOT, STAGE, offline_environment, osls_binary

pytestmark = pytest.mark.deploy


def osls_print(folder: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(osls_binary()), "print", "--stage", STAGE],
        cwd=folder,
        env=offline_environment(),
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    folder = tmp_path / "project"
    folder.mkdir()
    ignore = shutil.ignore_patterns("__pycache__")
    for name in ("app", "workers", "scripts"):
        shutil.copytree(ROOT / name, folder / name, ignore=ignore)
    for name in ("serverless.yml", "package.json"):
        shutil.copy(ROOT / name, folder / name)
    (folder / "node_modules").symlink_to(ROOT / "node_modules")
    return folder


def test_a_copy_of_task2_under_a_new_name_gets_its_function_queues_role_and_alarms(project):
    source = (project / "workers" / "tasks" / "task2.py").read_text()
    (project / "workers" / "tasks" / "task3.py").write_text(source.replace('name="TASK2"', 'name="TASK3"'))
    printed = osls_print(project)
    assert printed.returncode == 0, printed.stderr
    config = yaml.load(printed.stdout, Loader=yaml.BaseLoader)
    worker = config["functions"]["task3"]
    assert worker["handler"] == "workers.tasks.task3.handler"
    assert worker["role"] == "Task3Role"
    resources = config["resources"]["Resources"]
    for suffix in ("Queue", "DeadLetterQueue", "QueuePolicy", "Subscription", "Role", "ErrorsAlarm"):
        assert f"Task3{suffix}" in resources, suffix
    assert resources["Task3Queue"]["Properties"]["QueueName"] == f"async-app-{STAGE}-task3"
    dead_letters = [
        event["sqs"]["arn"]["Fn::GetAtt"][0] for event in config["functions"]["deadLetters"]["events"]
    ]
    assert "Task3DeadLetterQueue" in dead_letters


def test_a_type_lambda_cannot_run_is_refused_with_what_to_change(project):
    source = (project / "workers" / "tasks" / "task1.py").read_text()
    (project / "workers" / "tasks" / "report.py").write_text(
        source.replace('name="TASK1"', 'name="REPORT"').replace(
            "longest_run_seconds=21", "longest_run_seconds=1200"
        )
    )
    printed = osls_print(project)
    assert printed.returncode != 0
    said = printed.stdout + printed.stderr
    assert "report.py: REPORT: one run of up to 1200 s needs a 1207 s timeout, past Lambda's 900 s" in said
    assert "longest_run_seconds can be at most 893" in said
