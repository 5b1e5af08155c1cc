"""Run by the runtime's Python (3.13): is every module in an artefact shipped as its bytecode?

    python3.13 tests/deploy/bytecode_probe.py ARTEFACT.zip   ->  JSON on stdout

For each .py: its __pycache__/<name>.<cache tag>.pyc exists, is of this
Python (magic number), is hash-based with the source check off (flags 0b01:
Lambda's reset file times cannot invalidate it, and nothing re-reads the
source), holds the hash of the .py beside it, and names that .py where Lambda
unpacks it (/var/task/<name>), never the folder it was built in. Standard
library only.
"""

from __future__ import annotations

import json
import marshal
import sys
import zipfile
from importlib.util import MAGIC_NUMBER, cache_from_source, source_hash

UNCHECKED_HASH = 0b01
TASK_ROOT = "/var/task/"


def probe(path: str) -> dict[str, object]:
    with zipfile.ZipFile(path) as archive:
        names = set(archive.namelist())
        sources = sorted(name for name in names if name.endswith(".py"))
        missing, wrong, misnamed = [], [], []
        for source in sources:
            cached = cache_from_source(source)
            if cached not in names:
                missing.append(source)
                continue
            pyc = archive.read(cached)
            flags = int.from_bytes(pyc[4:8], "little")
            if (
                pyc[:4] != MAGIC_NUMBER
                or flags != UNCHECKED_HASH
                or pyc[8:16] != source_hash(archive.read(source))
            ):
                wrong.append(source)
            elif marshal.loads(pyc[16:]).co_filename != TASK_ROOT + source:
                misnamed.append(source)
        tag = f".{sys.implementation.cache_tag}."
        stray = sorted(name for name in names if name.endswith(".pyc") and tag not in name)
    return {
        "python": sys.version.split()[0],
        "modules": len(sources),
        "missing": missing,
        "wrong": wrong,
        "misnamed": misnamed,
        "other_python": stray,
    }


if __name__ == "__main__":
    json.dump(probe(sys.argv[1]), sys.stdout)
