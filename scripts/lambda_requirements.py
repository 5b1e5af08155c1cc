"""Write the Lambda functions' requirements from pyproject.toml, for packaging.

serverless-python-requirements reads a requirements file; pyproject.toml's
[project.dependencies] is the one list of what the functions need at run time,
so this derives the file from it (no second list to keep in step):

    .build/lambda-requirements.txt   the pinned dependencies, one a line
    .build/lambda-requirements.json  {"fileName": ..., "dependencies": [...]}

serverless.yml reads fileName from the JSON through ${file(...)}, so packaging
without having run this fails at once instead of shipping functions without
their dependencies. `npm run package` and `npm run deploy` run it first.

boto3/botocore are provided by the Lambda runtime and must not be listed;
every dependency must be pinned with == so that a deploy is reproducible.
Runs on the standard library alone (Python 3.11+).
"""

from __future__ import annotations

import json
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT / ".build"
TEXT_NAME = ".build/lambda-requirements.txt"
JSON_NAME = ".build/lambda-requirements.json"

PROVIDED_BY_LAMBDA = {"boto3", "botocore", "s3transfer", "jmespath"}
_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def dependencies(pyproject: Path = ROOT / "pyproject.toml") -> list[str]:
    project = tomllib.loads(pyproject.read_text())["project"]
    found = [str(item).strip() for item in project.get("dependencies", [])]
    problems = []
    for requirement in found:
        match = _NAME.match(requirement)
        name = match.group(1).lower().replace("_", "-") if match else requirement
        if name in PROVIDED_BY_LAMBDA:
            problems.append(f"{requirement}: provided by the Lambda runtime, leave it out")
        elif "==" not in requirement:
            problems.append(f"{requirement}: pin it with == for a reproducible package")
    if problems:
        raise SystemExit("pyproject.toml [project.dependencies]:\n  " + "\n  ".join(problems))
    return found


def main() -> int:
    found = dependencies()
    BUILD.mkdir(exist_ok=True)
    (ROOT / TEXT_NAME).write_text("".join(f"{line}\n" for line in found))
    (ROOT / JSON_NAME).write_text(json.dumps({"fileName": TEXT_NAME, "dependencies": found}, indent=2) + "\n")
    print(f"{TEXT_NAME}: {len(found)} dependencies from pyproject.toml", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
