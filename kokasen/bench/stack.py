"""`make measure-stack` (or python -m kokasen.bench.stack): the production stack measured by the
tools an agency's security review uses, each figure printed with the command that reproduces it.

The stack is the full-stack test's (kokasen/testing/stack.py: nginx with deploy/nginx/,
gunicorn with the unit's command line and the production settings, PostgreSQL, Redis, clamd, the
demo content), with nginx on 127.0.0.1:80 and :443 so that the tools see an ordinary site at
https://localhost/ (the name of the throw-away CA's certificate; they trust that CA, so nothing is
told to ignore certificate errors). Then:

1. the MDN HTTP Observatory (npm @mdn/mdn-http-observatory, pinned in tools/package.json):
   grade, score and tests passed for https://localhost/;
2. testssl.sh (Debian testssl.sh): protocols, every cipher suite offered, the weakest, and the
   findings by severity;
3. wapiti (Debian wapiti): the public site with the login, then the members' area with a member's
   session cookie; its findings, and how many of its requests nginx's limits refused;
4. a flood: 15 s of wrk on /login/ and on a members' page (with a member's cookie) from
   127.0.0.1 (wrk at the lowest CPU priority), while another local government logs in and
   reads pages from 127.0.0.3; that bystander's p95 quiet and under the flood, and how much the
   logs grew. fail2ban does not run here: this is nginx's limits alone.

Nothing is asserted: the figures are for people to read (docs/operations.md, "Measuring the
stack"). Needs root (ports 80 and 443) and the tools of MEASURE_APT_PACKAGES (Makefile).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

from kokasen.testing.stack import HOST, MEMBER_CODES, ROOT, Stack

OBSERVATORY = ROOT / "tools" / "node_modules" / "@mdn" / "mdn-http-observatory"
STEPS = ("observatory", "wapiti", "testssl", "flood")
BYSTANDER = "127.0.0.3"
AEAD = {"AESGCM", "ChaCha20", "AESCCM", "AESCCM8"}


def show(command: list[str], env: dict | None = None) -> str:
    prefix = "".join(f"{name}={shlex.quote(str(value))} " for name, value in (env or {}).items())
    text = prefix + " ".join(shlex.quote(str(part)) for part in command)
    print(f"  $ {text}")
    return text


def heading(text: str) -> None:
    print(f"\n== {text}", flush=True)


def require_tools(steps) -> None:
    missing = []
    if os.geteuid() != 0:
        missing.append("root (nginx listens on 127.0.0.1:80 and :443)")
    for step, tool, package in (
        ("testssl", "testssl", "testssl.sh"),
        ("wapiti", "wapiti", "wapiti"),
        ("flood", "wrk", "wrk"),
        ("observatory", "node", "nodejs"),
    ):
        if step in steps and shutil.which(tool) is None:
            missing.append(f"{tool} (Debian package {package}; `make measure-stack` installs it)")
    if "observatory" in steps and not (OBSERVATORY / "src" / "scan.js").exists():
        missing.append("@mdn/mdn-http-observatory in tools/node_modules (`make test-tools`)")
    if missing:
        raise SystemExit("measure-stack needs: " + "; ".join(missing))


# --- 1. The MDN HTTP Observatory -------------------------------------------------------------------


def observatory(stack: Stack) -> None:
    heading("MDN HTTP Observatory (@mdn/mdn-http-observatory, tools/package.json)")
    preload = OBSERVATORY / "conf" / "hsts-preload.json"
    if not preload.exists():
        # The package's install script downloads Chromium's HSTS preload list (no network here;
        # tools/.npmrc turns install scripts off). localhost is in no preload list, so an empty
        # one gives the same results.
        preload.write_text("{}\n", encoding="utf-8")
        print(f"  (wrote an empty {preload.relative_to(ROOT)}: localhost is not HSTS-preloaded)")
    # scan.js is what the package's bin wrapper runs; the wrapper would replace NODE_EXTRA_CA_CERTS
    # with Mozilla's bundle, and the scan must trust the stack's CA instead.
    env = {"NODE_EXTRA_CA_CERTS": stack.certificates["ca"]}
    command = ["node", OBSERVATORY.relative_to(ROOT) / "src" / "scan.js", HOST]
    show(command, env)
    done = subprocess.run(
        [str(part) for part in command],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **{k: str(v) for k, v in env.items()}},
    )
    result = json.loads(done.stdout or "{}")
    if "scan" not in result:
        print(f"  failed: {done.stdout.strip()} {done.stderr.strip()[-500:]}")
        return
    scan = result["scan"]
    print(f"  grade {scan['grade']}, score {scan['score']}, tests passed {scan['testsPassed']}/{scan['testsQuantity']}")
    for name, test in result["tests"].items():
        mark = "pass" if test["pass"] else "FAIL"
        print(f"    {mark} {name}: {test['result']} ({test.get('scoreModifier', 0):+d})")


# --- 2. testssl.sh ---------------------------------------------------------------------------------------


def cipher_rank(finding: str) -> tuple:
    """(forward secret, AEAD, bits, name) of one line of testssl's --each-cipher."""
    parts = finding.split()
    name, kx, encryption, bits = parts[1], parts[2], parts[-3], int(parts[-2])
    return (kx.startswith(("ECDH", "DH")), encryption in AEAD, bits, name, encryption)


def testssl(stack: Stack, folder: Path) -> None:
    heading("testssl.sh (Debian testssl.sh)")
    report = folder / "testssl.json"
    command = [
        "testssl",
        "--quiet",
        "--color",
        "0",
        "--warnings",
        "off",
        "--add-ca",
        stack.certificates["ca"],
        "--jsonfile",
        report,
        "--protocols",
        "--each-cipher",
        "--std",
        "--fs",
        "--server-defaults",
        "--server-preference",
        "--headers",
        "--vulnerable",
        f"{HOST}:{stack.ports['https']}",
    ]
    show(command)
    started = time.monotonic()
    subprocess.run(
        [str(part) for part in command], cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=1800
    )
    findings = json.loads(report.read_text(encoding="utf-8"))
    by_id = {entry["id"]: entry for entry in findings}
    protocols = [
        name
        for name, key in (
            ("SSLv2", "SSLv2"),
            ("SSLv3", "SSLv3"),
            ("TLS 1.0", "TLS1"),
            ("TLS 1.1", "TLS1_1"),
            ("TLS 1.2", "TLS1_2"),
            ("TLS 1.3", "TLS1_3"),
        )
        if by_id.get(key, {}).get("finding", "").startswith("offered")
    ]
    print(f"  {time.monotonic() - started:.0f} s; protocols offered: {', '.join(protocols)}")
    ciphers = sorted(cipher_rank(entry["finding"]) for entry in findings if entry["id"].startswith("cipher_x"))
    print(f"  {len(ciphers)} cipher suites offered:")
    for fs, aead, bits, name, encryption in ciphers:
        print(
            f"    {name:32} {encryption:9} {bits:3} bit  {'forward secret' if fs else 'NO forward secrecy'}, "
            f"{'AEAD' if aead else 'not AEAD (CBC)'}"
        )
    if ciphers:
        fs, aead, bits, name, encryption = ciphers[0]
        print(
            f"  weakest: {name} ({encryption}, {bits} bit, {'forward secret' if fs else 'no forward secrecy'}, "
            f"{'AEAD' if aead else 'CBC'}); every suite forward secret: {all(c[0] for c in ciphers)}, "
            f"every suite AEAD: {all(c[1] for c in ciphers)}"
        )
    severities = Counter(entry["severity"] for entry in findings)
    print(
        "  findings by severity: "
        + ", ".join(f"{level} {severities.get(level, 0)}" for level in ("CRITICAL", "HIGH", "MEDIUM", "LOW", "WARN"))
    )
    for entry in findings:
        if entry["severity"] in ("CRITICAL", "HIGH", "MEDIUM", "LOW", "WARN"):
            print(f"    {entry['severity']:6} {entry['id']}: {entry['finding']}")
    stapled = stack.prime_ocsp_stapling(timeout=10)
    show(stack.s_client_command("-status"))
    print(f"  OCSP stapling: {'a good stapled answer on 6 handshakes in a row' if stapled else 'NOT stapled'}")
    # testssl asks for secure renegotiation without a server name, which the catch-all server
    # refuses (no certificate without the portal's name): ask with the name.
    show(stack.s_client_command("-tls1_2"))
    done = stack.s_client("-tls1_2")
    renegotiation = re.search(r"^Secure Renegotiation.*$", done.stdout, re.M)
    print(f"  {renegotiation[0] if renegotiation else 'no answer: ' + done.stderr[-300:]}")


# --- 3. wapiti ----------------------------------------------------------------------------------------------


def nginx_answers(stack: Stack) -> tuple[int, int]:
    """(requests in access.log, lines in refused.log): refused.log keeps one refusal in 16."""
    stack.flush_logs()
    count = [
        sum(1 for _ in open(stack.logs / name, "rb")) if (stack.logs / name).exists() else 0
        for name in ("access.log", "refused.log")
    ]
    return count[0], count[1]


def wapiti_run(stack: Stack, folder: Path, name: str, url: str, cookie: str | None) -> None:
    report = folder / f"wapiti-{name}.json"
    command = [
        "wapiti",
        "-u",
        url,
        "--scope",
        "folder",
        "--flush-session",
        "--store-session",
        folder / "wapiti",
        "--store-config",
        folder / "wapiti",
        "-f",
        "json",
        "-o",
        report,
        "--no-bugreport",
        "-v",
        "0",
    ]
    if cookie:
        command += ["-H", f"Cookie: {cookie}"]
    shown = [part if "sessionid=" not in str(part) else "Cookie: sessionid=…(a member's session)" for part in command]
    show(shown)
    before = nginx_answers(stack)
    started = time.monotonic()
    done = subprocess.run([str(part) for part in command], cwd=folder, capture_output=True, text=True, timeout=3600)
    seconds = time.monotonic() - started
    after = nginx_answers(stack)
    passed, refused = after[0] - before[0], (after[1] - before[1]) * 16
    if not report.exists():
        print(f"  wapiti failed ({done.returncode}): {done.stderr[-800:]}")
        return
    result = json.loads(report.read_text(encoding="utf-8"))
    found = {
        section: {kind: items for kind, items in result.get(section, {}).items() if items}
        for section in ("vulnerabilities", "anomalies", "additionals")
    }
    total = sum(len(items) for kinds in found.values() for items in kinds.values())
    print(
        f"  {seconds:.0f} s; {passed} requests reached nginx's access log, about {refused} more were refused by "
        f"nginx's limits (refused.log keeps one in 16)"
    )
    print(f"  findings: {total}")
    for section, kinds in found.items():
        for kind, items in kinds.items():
            for item in items:
                print(
                    f"    {section} / {kind}: {item.get('method', '')} {item.get('path', '')} — {item.get('info', '')}"
                )


def wapiti(stack: Stack, folder: Path, cookie: str) -> None:
    heading("wapiti (Debian wapiti): the public site and the login, then the members' area")
    wapiti_run(stack, folder, "public", f"https://{HOST}/", None)
    # The members' area only (scope "folder"): /logout/ lies outside it, so the session survives.
    wapiti_run(stack, folder, "members", f"https://{HOST}/members/", cookie)


# --- 4. The flood and the bystander ------------------------------------------------------------------------


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def bystander(stack: Stack, seconds: float) -> tuple[list[float], Counter]:
    """Another local government, from 127.0.0.3: logs in and reads four pages, again and again;
    the time of each request (ms) and the statuses."""
    code = MEMBER_CODES[1]
    latencies, statuses = [], Counter()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        browser = stack.browser(BYSTANDER)
        steps = [
            ("GET", "/login/"),
            ("POST", "/login/"),
            ("GET", "/members/"),
            ("GET", stack.info["members_page"]),
            ("GET", "/members/initiatives/"),
            ("GET", "/"),
        ]
        for method, path in steps:
            started = time.perf_counter()
            if method == "POST":
                response = browser.post(path, {"username": code, "password": stack.members[code]})
            else:
                response = browser.get(path)
            latencies.append((time.perf_counter() - started) * 1000)
            statuses[response.status] += 1
        browser.close()
    return latencies, statuses


def flood(stack: Stack, seconds: int) -> None:
    heading(f"Flood: {seconds} s of wrk from 127.0.0.1 while another local government works from {BYSTANDER}")
    member = stack.browser("127.0.0.4")  # 127.0.0.1 may be slowed by wapiti's login attempts
    response = member.log_in(MEMBER_CODES[0], stack.members[MEMBER_CODES[0]])
    assert response.status == 302, f"the flooding member could not log in: {response.status}"
    cookie = f"sessionid={member.cookies['sessionid']}"
    print("  the bystander, quiet (this script: kokasen.bench.stack.bystander)")
    quiet, quiet_statuses = bystander(stack, seconds)
    stack.flush_logs()
    logs_before = {path.name: path.stat().st_size for path in stack.logs.iterdir()}
    # wrk at the lowest priority: an attacker's own CPU is not the server's (on this machine both
    # share two cores); nginx, gunicorn and the bystander run as usual.
    floods = [
        ["nice", "-n", "19", "wrk", "-t1", "-c50", f"-d{seconds}s", "--latency", f"https://{HOST}/login/"],
        [
            "nice",
            "-n",
            "19",
            "wrk",
            "-t1",
            "-c50",
            f"-d{seconds}s",
            "--latency",
            "-H",
            f"Cookie: {cookie}",
            f"https://{HOST}{stack.info['members_page']}",
        ],
    ]
    for command in floods:
        show([part if "sessionid=" not in part else "Cookie: sessionid=…(a member's session)" for part in command])
    outputs: list[str] = ["", ""]

    def run(index):
        outputs[index] = subprocess.run(floods[index], capture_output=True, text=True, timeout=seconds + 60).stdout

    threads = [threading.Thread(target=run, args=(index,)) for index in range(2)]
    for thread in threads:
        thread.start()
    time.sleep(1)  # wrk is connected
    loaded, loaded_statuses = bystander(stack, seconds - 2)
    for thread in threads:
        thread.join()
    time.sleep(1)
    stack.flush_logs()
    logs_after = {path.name: path.stat().st_size for path in stack.logs.iterdir()}
    for command, output in zip(floods, outputs):
        total = re.search(r"(\d+) requests in", output)
        rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
        non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
        print(
            f"  wrk {command[-1]}: {total[1] if total else '?'} requests, {rate[1] if rate else '?'}/s, "
            f"non-2xx/3xx {non_2xx[1] if non_2xx else 0}"
        )
    quiet_p95, loaded_p95 = percentile(quiet, 0.95), percentile(loaded, 0.95)
    print(
        f"  bystander quiet:        {len(quiet)} requests, p50 {percentile(quiet, 0.5):.0f} ms, "
        f"p95 {quiet_p95:.0f} ms, statuses {dict(quiet_statuses)}"
    )
    print(
        f"  bystander under flood:  {len(loaded)} requests, p50 {percentile(loaded, 0.5):.0f} ms, "
        f"p95 {loaded_p95:.0f} ms, statuses {dict(loaded_statuses)}"
    )
    print(
        f"  p95 under flood / quiet: {loaded_p95 / quiet_p95:.2f} (no fail2ban here: on a server its "
        f"kokasen-refused jail bans a flooding address within seconds, deploy/fail2ban/)"
    )
    grown = {
        name: logs_after[name] - logs_before.get(name, 0)
        for name in logs_after
        if logs_after[name] != logs_before.get(name, 0)
    }
    print(
        f"  access logs grew {sum(grown.values()) / 1e6:.2f} MB during the flood: "
        + ", ".join(f"{name} {size / 1e6:.2f} MB" for name, size in sorted(grown.items()))
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", default=",".join(STEPS), help=f"comma-separated subset of {','.join(STEPS)}")
    parser.add_argument("--seconds", type=int, default=15, help="length of the flood")
    parser.add_argument("--hold", action="store_true", help="keep the stack up afterwards until Ctrl-C")
    args = parser.parse_args()
    steps = [step.strip() for step in args.only.split(",") if step.strip()]
    assert set(steps) <= set(STEPS), f"--only takes {STEPS}"
    require_tools(steps)
    with tempfile.TemporaryDirectory(prefix="kokasen-measure-") as scratch:
        folder = Path(scratch)
        started = time.monotonic()
        with Stack(folder / "stack", http_port=80, https_port=443) as stack:
            print(
                f"stack up in {time.monotonic() - started:.0f} s ({stack.info['seconds']}); https://{HOST}/ on "
                f"127.0.0.1:443, CA {stack.certificates['ca']}, logs {stack.logs}"
            )
            print(f"OCSP stapling primed in every nginx worker: {stack.prime_ocsp_stapling()}")
            member = stack.browser("127.0.0.5")
            assert member.log_in(MEMBER_CODES[0], stack.members[MEMBER_CODES[0]]).status == 302
            cookie = "; ".join(f"{name}={value}" for name, value in member.cookies.items())
            if "observatory" in steps:
                observatory(stack)
            if "wapiti" in steps:
                wapiti(stack, folder, cookie)
            # After wapiti: testssl 3.0.8 reported "OCSP stapling: not offered" when it ran within about
            # two minutes of nginx's start although every handshake with -status had the answer (the
            # line after its findings checks that too); later runs reported "offered".
            if "testssl" in steps:
                testssl(stack, folder)
            if "flood" in steps:
                flood(stack, args.seconds)
            if args.hold:
                print(f"\nThe stack stays up (https://{HOST}/, CA {stack.certificates['ca']}); Ctrl-C stops it.")
                try:
                    while True:
                        time.sleep(3600)
                except KeyboardInterrupt:
                    pass
    sys.stdout.flush()


if __name__ == "__main__":
    main()
