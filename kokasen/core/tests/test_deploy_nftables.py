"""deploy/nftables/kokasen.nft: `nft -c`, its rules as nft itself reads them, and the firewall
in action between two network namespaces that the test makes and removes (decision 0025).

Nothing here touches the machine's own firewall: the ruleset is loaded only inside new network
namespaces. The namespaces talk over a veth pair with documentation addresses (198.51.100.0/24,
TEST-NET-2), which leave no namespace of this test.
"""

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
RULESET = ROOT / "deploy" / "nftables" / "kokasen.nft"
NEVER_OPEN = {8001, 5432, 6379}  # gunicorn, PostgreSQL, Redis


def nft() -> str:
    found = shutil.which("nft", path=os.environ.get("PATH", "") + os.pathsep + "/usr/sbin:/sbin")
    assert found, "nft is missing: install Debian's nftables package (make test-tools)"
    return found


def test_nft_checks_the_ruleset():
    result = subprocess.run([nft(), "-c", "-f", str(RULESET)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


def loaded_rules() -> list[dict]:
    """The input chain's rules as nft lists them after loading the file in a private namespace."""
    script = f"{nft()} -f {RULESET} && {nft()} -j list ruleset"
    result = subprocess.run(["unshare", "--net", "sh", "-c", script], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    items = json.loads(result.stdout)["nftables"]
    [chain] = [i["chain"] for i in items if "chain" in i and i["chain"]["name"] == "input"]
    assert (chain["hook"], chain["policy"]) == ("input", "drop")
    return [i["rule"] for i in items if "rule" in i and i["rule"]["chain"] == "input"]


def ports_of(rule) -> set[int]:
    found = set()
    for expr in rule["expr"]:
        match = expr.get("match")
        if match and match["left"].get("payload", {}).get("field") == "dport":
            right = match["right"]
            values = right["set"] if isinstance(right, dict) and "set" in right else [right]
            found |= {v for v in values if isinstance(v, int)}
    return found


def verdict(rule) -> str | None:
    for expr in rule["expr"]:
        for name in ("accept", "drop", "reject"):
            if name in expr:
                return name
    return None


def source_sets(rule) -> set[str]:
    return {
        expr["match"]["right"].lstrip("@")
        for expr in rule["expr"]
        if "match" in expr
        and expr["match"]["left"].get("payload", {}).get("field") == "saddr"
        and isinstance(expr["match"]["right"], str)
    }


def test_only_http_https_and_ssh_from_the_configured_networks_are_let_in():
    rules = loaded_rules()
    accepted = [(ports_of(rule), source_sets(rule)) for rule in rules if verdict(rule) == "accept" and ports_of(rule)]
    assert ({80, 443}, set()) in accepted
    assert ({22}, {"ssh_networks_v4"}) in accepted and ({22}, {"ssh_networks_v6"}) in accepted
    for ports, sources in accepted:
        assert not ports & NEVER_OPEN
        assert ports <= {80, 443} or sources, (ports, sources)  # anything else only from a configured range
    # An explicit drop of the three, before any accept of ports.
    first_port_rule = next(rule for rule in rules if ports_of(rule))
    assert (verdict(first_port_rule), ports_of(first_port_rule)) == ("drop", NEVER_OPEN)


LISTENER = """
import socket, sys, threading
socks = []
for port in (22, 80, 443, 8001, 5432, 6379):
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", port)); s.listen(16); socks.append(s)
print("ready", flush=True)
sys.stdin.read()
"""
PROBE = """
import json, socket
result = {}
for source in ("198.51.100.20", "198.51.100.40"):
    for port in (22, 80, 443, 8001, 5432, 6379):
        s = socket.socket(); s.settimeout(0.7); s.bind((source, 0))
        try:
            s.connect(("198.51.100.1", port)); result[f"{source}:{port}"] = True
        except OSError:
            result[f"{source}:{port}"] = False
        s.close()
print(json.dumps(result))
"""


def test_the_firewall_between_two_namespaces(tmp_path):
    """A server namespace with the ruleset (SSH allowed from 198.51.100.16/28) and everything
    listening on 0.0.0.0; a client namespace with one address inside that range and one outside."""
    ip = shutil.which("ip", path=os.environ.get("PATH", "") + os.pathsep + "/usr/sbin:/sbin")
    assert ip, "ip is missing: install Debian's iproute2 package (make test-tools)"
    ruleset = RULESET.read_text(encoding="utf-8").replace(
        "elements = { 192.0.2.0/24 }", "elements = { 198.51.100.16/28 }"
    )
    (tmp_path / "kokasen.nft").write_text(ruleset, encoding="utf-8")
    tag = f"kk{os.getpid() % 100000}"
    server, client = f"{tag}srv", f"{tag}cli"
    setup = textwrap.dedent(f"""
        set -e
        {ip} netns add {server}
        {ip} netns add {client}
        {ip} link add {tag}s type veth peer name {tag}c
        {ip} link set {tag}s netns {server}
        {ip} link set {tag}c netns {client}
        {ip} -n {server} link set lo up
        {ip} -n {server} addr add 198.51.100.1/24 dev {tag}s
        {ip} -n {server} link set {tag}s up
        {ip} -n {client} link set lo up
        {ip} -n {client} addr add 198.51.100.20/24 dev {tag}c
        {ip} -n {client} addr add 198.51.100.40/24 dev {tag}c
        {ip} -n {client} link set {tag}c up
        {ip} netns exec {server} {nft()} -f {tmp_path / "kokasen.nft"}
    """)
    listener = None
    try:
        done = subprocess.run(["sh", "-c", setup], capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        listener = subprocess.Popen(
            [ip, "netns", "exec", server, sys.executable, "-c", LISTENER],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert listener.stdout.readline().strip() == "ready"
        probe = subprocess.run(
            [ip, "netns", "exec", client, sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=60
        )
        assert probe.returncode == 0, probe.stderr
        reached = json.loads(probe.stdout)
    finally:
        if listener:
            listener.stdin.close()
            listener.wait(timeout=10)
        subprocess.run(["sh", "-c", f"{ip} netns del {server}; {ip} netns del {client}"], capture_output=True)
    inside, outside = "198.51.100.20", "198.51.100.40"
    for source in (inside, outside):
        assert reached[f"{source}:80"] and reached[f"{source}:443"], reached
        for port in NEVER_OPEN:
            assert not reached[f"{source}:{port}"], (source, port)
    assert reached[f"{inside}:22"] and not reached[f"{outside}:22"], reached


@pytest.mark.parametrize("port", sorted(NEVER_OPEN))
def test_the_file_never_accepts_the_internal_ports(port):
    for line in RULESET.read_text(encoding="utf-8").splitlines():
        if "accept" in line and not line.lstrip().startswith("#"):
            assert str(port) not in line, line
