"""IPv6 addresses that carry an IPv4 address are judged by it, the same on Python 3.11 and 3.13 (issue 18)."""

from __future__ import annotations

import glob
import ipaddress
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.domain.callbacks import CallbackRefused, embedded_ipv4, is_public, parse

ROOT = Path(__file__).resolve().parents[2]

# address -> may a webhook go there
VERDICTS = {
    # NAT64 (64:ff9b::/96): private, link-local (the metadata service) and public IPv4 behind it.
    "64:ff9b::a00:1": False,
    "64:ff9b::10.0.0.1": False,
    "64:ff9b::169.254.169.254": False,
    "64:ff9b::127.0.0.1": False,
    "64:ff9b::8.8.8.8": True,
    # Local-use NAT64 (64:ff9b:1::/48): never global.
    "64:ff9b:1::a00:1": False,
    "64:ff9b:1::808:808": False,
    # IPv4-compatible (::a.b.c.d), IPv4-mapped, SIIT (::ffff:0:a.b.c.d).
    "::10.0.0.1": False,
    "::169.254.169.254": False,
    "::8.8.8.8": True,
    "::ffff:10.0.0.1": False,
    "::ffff:8.8.8.8": True,
    "::ffff:0:10.0.0.1": False,
    "::ffff:0:169.254.169.254": False,
    "::ffff:0:8.8.8.8": True,
    # 6to4 (2002::/16): the IPv4 address is bits 16-47.
    "2002:a00:1::1": False,
    "2002:a9fe:a9fe::": False,
    "2002:7f00:1::": False,
    "2002:808:808::1": True,
    # Teredo (2001::/32): its server and its client (stored inverted) both count.
    "2001:0:808:808:0:0:f5ff:f5fe": False,  # client 10.0.10.1
    "2001:0:4136:e378:8000:63bf:3fff:fdd2": False,  # client 192.0.2.45 (documentation)
    "2001:0:a00:1:0:0:f7f7:f7f7": False,  # server 10.0.0.1, client 8.8.8.8
    # Tables that changed between Python versions.
    "192.0.0.8": False,
    "192.0.0.9": False,
    "192.0.0.170": False,
    "2001:1::1": False,
    "2001:20::1": False,
    "3fff::1": False,
    # Plain addresses stay as they were.
    "8.8.8.8": True,
    "2606:4700:4700::1111": True,
    "::1": False,
    "::": False,
    "fd00:ec2::254": False,
}


@pytest.mark.parametrize(("address", "public"), VERDICTS.items())
def test_each_address_is_judged_by_the_ipv4_address_it_carries(address, public):
    assert is_public(ipaddress.ip_address(address)) is public
    url = f"https://[{address}]/hook" if ":" in address else f"https://{address}/hook"
    if public:
        parse(url, local=False)
    else:
        with pytest.raises(CallbackRefused, match="webhooks go to public addresses only"):
            parse(url, local=False)


def test_the_embedded_address_is_found_in_each_form():
    def carried(text: str) -> list[str] | None:
        found = embedded_ipv4(ipaddress.IPv6Address(text))
        return None if found is None else [str(address) for address in found]

    assert carried("64:ff9b::a9fe:a9fe") == ["169.254.169.254"]
    assert carried("::ffff:0:a00:1") == ["10.0.0.1"]
    assert carried("::a00:1") == ["10.0.0.1"]
    assert carried("2002:a00:1::") == ["10.0.0.1"]
    assert carried("2001:0:808:808:0:0:f5ff:f5fe") == ["8.8.8.8", "10.0.10.1"]
    assert carried("2606:4700:4700::1111") is None


def _other_pythons() -> list[str]:
    """CPython 3.11 and 3.13 interpreters on this machine, besides the one running the tests."""
    root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    found = [
        *glob.glob(str(root / "versions/3.1[13]*/bin/python3")),
        "/usr/bin/python3.11",
        "/usr/bin/python3.13",
    ]
    return sorted(
        {path for path in found if Path(path).exists() and Path(path).resolve() != Path(sys.executable)}
    )


def test_the_verdicts_are_the_same_on_python_3_11_and_3_13():
    code = (
        "import ipaddress, json, sys; sys.path.insert(0, sys.argv[1]);"
        "from app.domain.callbacks import is_public;"
        "verdicts = {a: is_public(ipaddress.ip_address(a)) for a in sys.argv[2:]};"
        "print(json.dumps([sys.version_info[:2], verdicts]))"
    )
    versions = {tuple(sys.version_info[:2])}
    for python in _other_pythons():
        run = subprocess.run(
            [python, "-I", "-c", code, str(ROOT), *VERDICTS], capture_output=True, text=True, timeout=60
        )
        assert run.returncode == 0, run.stderr
        version, verdicts = json.loads(run.stdout)
        assert verdicts == VERDICTS, python
        versions.add(tuple(version))
    if not {(3, 11), (3, 13)} <= versions:
        pytest.skip(f"CPython 3.11 and 3.13 are not both here to compare (found {sorted(versions)})")
