"""callback_url rules: https to public addresses only; loopback (also over http) in stage local."""

import ipaddress

import pytest

from app.domain import callbacks
from app.domain.callbacks import CallbackRefused, check_addresses, parse

PUBLIC = ipaddress.ip_address("93.184.215.14")


def test_https_to_a_public_host_is_accepted_with_its_parts():
    target = parse("https://hooks.example.com:8443/in/tasks?source=async-app", local=False)
    assert (target.scheme, target.host, target.port, target.target) == (
        "https", "hooks.example.com", 8443, "/in/tasks?source=async-app",
    )  # fmt: skip
    check_addresses(target, [PUBLIC, ipaddress.ip_address("2606:2800:220:1:248:1893:25c8:1946")], local=False)
    assert parse("https://hooks.example.com", local=False).target == "/"


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://hooks.example.com/x", "must be https"),
        ("ftp://hooks.example.com/x", "must be https"),
        ("https://user:pw@hooks.example.com/x", "credentials"),
        ("https://hooks.example.com/x#frag", "fragment"),
        ("https:///x", "no host"),
        ("https://hooks.example.com:99999/x", "invalid port"),
        ("https://hooks.example.com/a b", "no spaces"),
        ("https://hooks.exämple.com/", "ASCII"),
        ("https://" + "a" * 2050 + ".com/", "longer than 2048"),
        # Addresses written in the URL are checked at once.
        ("https://10.0.0.5/x", "private"),
        ("https://169.254.169.254/latest/meta-data/", "private"),
        ("https://[fd00:ec2::254]/", "private"),
        ("https://127.0.0.1/x", "private"),
        ("https://[::ffff:192.168.1.1]/x", "private"),
    ],
)
def test_refused_urls_say_why(url, why):
    with pytest.raises(CallbackRefused, match=why):
        parse(url, local=False)


@pytest.mark.parametrize(
    "address",
    [
        "10.1.2.3",  # private
        "172.16.0.1",
        "192.168.0.10",
        "127.0.0.1",  # loopback
        "169.254.169.254",  # link-local: the instance metadata service
        "fd00:ec2::254",  # the metadata service over IPv6
        "fe80::1",
        "100.64.0.1",  # shared address space (carrier NAT)
        "0.0.0.0",
        "224.0.0.1",  # multicast
        "::ffff:10.0.0.1",  # IPv4-mapped private
        "::1",
    ],
)
def test_a_host_with_any_non_public_address_is_refused(address):
    target = parse("https://hooks.example.com/x", local=False)
    with pytest.raises(CallbackRefused, match="public addresses only"):
        check_addresses(target, [PUBLIC, ipaddress.ip_address(address)], local=False)


def test_a_host_that_does_not_resolve_is_refused():
    with pytest.raises(CallbackRefused, match="does not resolve"):
        check_addresses(parse("https://nowhere.example/x", local=False), [], local=False)


def test_stage_local_allows_loopback_over_http_and_https_and_nothing_private():
    for url in (
        "http://127.0.0.1:9000/hook",
        "http://localhost:9000/hook",
        "http://[::1]/",
        "https://127.0.0.1/",
    ):
        target = parse(url, local=True)
        check_addresses(target, [ipaddress.ip_address("127.0.0.1")], local=True)
    with pytest.raises(CallbackRefused, match="http only to loopback"):
        parse("http://hooks.example.com/x", local=True)
    with pytest.raises(CallbackRefused, match="public addresses only"):
        check_addresses(
            parse("https://hooks.example.com/", local=True), [ipaddress.ip_address("10.0.0.1")], local=True
        )
    # A name that says localhost but resolves elsewhere is refused over http (DNS can't be trusted).
    with pytest.raises(CallbackRefused, match="http only to loopback"):
        check_addresses(parse("http://localhost/", local=True), [PUBLIC], local=True)


def test_public_means_globally_routable():
    assert callbacks.is_public(PUBLIC)
    assert not callbacks.is_public(ipaddress.ip_address("192.0.2.1"))  # documentation range
    assert not callbacks.is_public(ipaddress.ip_address("::ffff:127.0.0.1"))
