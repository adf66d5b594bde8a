"""The layered bot filter (decision 0036). Django-free.

Per request (user agent and address, cached):

1. the operator's ignore list (``Rules.ignore_agents``: substrings of user agents,
   ``Rules.ignore_networks``: the agency's and the contractor's own checkers, load tests …);
2. known monitors (``MONITORS``: uptime services, monit, Zabbix, kube-probe, our own checks);
3. the user-agent patterns of the maintained package ``crawler-user-agents`` (search engines,
   scripts, headless browsers, link previews, SEO tools), plus what it misses here
   (``EXTRA_AGENTS``: scanners, an empty agent, a bare library name);

per client and day (a client is an address with a user agent; one office's gateway with many
people is many clients only if their browsers differ, so the rules are generous):

4. ``robots.txt``: a client that fetched it that day;
5. scanners: at least ``scanner_hits`` requests for paths no person's browser asks for
   (``classify.SCANNER_MARKS``: .php, /.env, /wp-…);
6. request rate: more than ``max_per_minute`` requests other than assets in one minute, or
   more than ``max_pages_without_assets`` page views in a day without a single asset (a
   script that reads pages but no CSS).

A client-day judged a bot by 4–6 is a bot for the whole of that day's requests in the run
that judges it, also the ones before the deciding request.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field

from . import classify

MONITORS = (
    "UptimeRobot",
    "Pingdom",
    "Site24x7",
    "StatusCake",
    "Better Uptime",
    "BetterStack",
    "Uptime-Kuma",
    "Mackerel",
    "Monit/",
    "Zabbix",
    "Nagios",
    "check_http",
    "kube-probe",
    "ELB-HealthChecker",
    "GoogleStackdriverMonitoring",
    "Datadog",
    "NewRelicPinger",
    "kokasen-health",
)
EXTRA_AGENTS = re.compile(
    r"nuclei|masscan|nikto|wpscan|sqlmap|zgrab|censys|nmap|dirbuster|gobuster|ffuf|feroxbuster|"
    r"httpx|l9explore|expanse|palo alto|internet-measurement|yandex|^java/|^python|^ruby|^perl|"
    r"^php/|^libwww|^lwp|^winhttp|^microsoft office protocol discovery|^-$|^$",
    re.IGNORECASE,
)

UA, MONITOR, IGNORED, ROBOTS, SCANNER, RATE = "agent", "monitor", "ignored", "robots", "scanner", "rate"
EARLIER = "earlier"  # judged a bot by an earlier run of the same day
REASONS = (IGNORED, MONITOR, UA, ROBOTS, SCANNER, RATE, EARLIER)


def _package_pattern() -> re.Pattern:
    from crawleruseragents import CRAWLER_USER_AGENTS_DATA

    return re.compile("|".join(f"(?:{entry['pattern']})" for entry in CRAWLER_USER_AGENTS_DATA))


@dataclass
class Rules:
    ignore_agents: tuple[str, ...] = ()
    ignore_networks: tuple[str, ...] = ()
    max_per_minute: int = 120
    max_pages_without_assets: int = 50
    scanner_hits: int = 2
    _networks: list = field(default_factory=list, repr=False)

    def __post_init__(self):
        self._networks = [ipaddress.ip_network(net, strict=False) for net in self.ignore_networks]


_PATTERN: re.Pattern | None = None


class Filter:
    """Per-request verdicts (cached per user agent and per address)."""

    def __init__(self, rules: Rules | None = None):
        global _PATTERN
        if _PATTERN is None:
            _PATTERN = _package_pattern()
        self.pattern = _PATTERN
        self.rules = rules or Rules()
        self._agents: dict[str, tuple[str, str]] = {}
        self._addresses: dict[str, bool] = {}

    def agent(self, user_agent: str) -> tuple[str, str]:
        """(reason the agent alone makes it a bot, '' if none; its device class)."""
        found = self._agents.get(user_agent)
        if found is None:
            found = (self._agent_reason(user_agent), classify.device(user_agent))
            if len(self._agents) > 100_000:
                self._agents.clear()
            self._agents[user_agent] = found
        return found

    def _agent_reason(self, user_agent: str) -> str:
        if any(mark in user_agent for mark in self.rules.ignore_agents):
            return IGNORED
        if any(mark in user_agent for mark in MONITORS):
            return MONITOR
        if EXTRA_AGENTS.search(user_agent.strip()) or self.pattern.search(user_agent):
            return UA
        return ""

    def address_ignored(self, address: str) -> bool:
        found = self._addresses.get(address)
        if found is None:
            found = False
            if self.rules._networks:
                try:
                    ip = ipaddress.ip_address(address)
                    found = any(ip in net for net in self.rules._networks)
                except ValueError:
                    found = False
            if len(self._addresses) > 100_000:
                self._addresses.clear()
            self._addresses[address] = found
        return found


def judge(
    rules: Rules,
    *,
    agent_reason: str,
    ignored: bool,
    robots: bool,
    scanner_hits: int,
    busiest_minute: int,
    pages: int,
    assets: int,
) -> str:
    """The reason a client-day is a bot ('' for a person)."""
    if ignored:
        return IGNORED
    if agent_reason:
        return agent_reason
    if robots:
        return ROBOTS
    if scanner_hits >= rules.scanner_hits:
        return SCANNER
    if busiest_minute > rules.max_per_minute or (pages > rules.max_pages_without_assets and assets == 0):
        return RATE
    return ""
