"""The generated blocks of the docs: `<!-- generated: NAME -->` ... `<!-- end: NAME -->`.

A doc's text between those two lines is rewritten from code, config or the
packaged template by scripts/deploy_docs.py and scripts/code_docs.py (`make
docs`); their tests fail when a block is stale. Standard library only.
"""

from __future__ import annotations

import difflib
import re
import sys
from pathlib import Path

BLOCK = re.compile(r"(<!-- generated: (\w+) -->\n)(.*?)(<!-- end: \2 -->)", re.S)


def rendered(doc: Path, text: str, blocks: dict[str, str]) -> str:
    """``text`` with each block's lines replaced by ``blocks[name]``; every block must be given."""
    found = {match.group(2) for match in BLOCK.finditer(text)}
    if found != set(blocks):
        raise SystemExit(f"{doc.name}: expected generated blocks {sorted(blocks)}, found {sorted(found)}")
    return BLOCK.sub(lambda m: m.group(1) + blocks[m.group(2)] + m.group(4), text)


def write_or_check(doc: Path, blocks: dict[str, str], check: bool, how: str) -> int:
    """Rewrite ``doc``'s blocks; with ``check``, exit status 1 and the difference when they drifted."""
    text = doc.read_text()
    new = rendered(doc, text, blocks)
    if not check:
        doc.write_text(new)
        return 0
    if new == text:
        return 0
    sys.stdout.writelines(
        difflib.unified_diff(text.splitlines(True), new.splitlines(True), doc.name, "generated")
    )
    print(f"{doc} drifted from what it is generated from: run {how}")
    return 1
