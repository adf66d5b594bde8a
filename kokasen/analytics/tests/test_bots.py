"""The bot filter on a labelled day of about 4,000 requests (kokasen/testing/traffic.py
``labelled_day``: people in municipal offices and at home, search engines, monitors, scripts,
headless browsers, scanners, a flood): at least 95 % of the bots' requests removed, at least
99 % of the people's kept. Django-free."""

from collections import Counter

import pytest

from kokasen.analytics import aggregate, bots, classify
from kokasen.core.access_log import parse_json
from kokasen.testing import traffic


def judged(rules=None):
    lines, truth = traffic.labelled_day().sorted()
    records = [parse_json(line) for line in lines]
    bot_filter = bots.Filter(rules)
    days = aggregate.Days("Asia/Tokyo")
    partial = aggregate.Partial()
    aggregate.add_records(partial, records, 0, days, bot_filter)
    totals = aggregate.fold(partial, bot_filter)
    judged_bots = set(totals.bot_clients)
    outcome = Counter()
    for record, bot in zip(records, truth):
        outcome[bot, (days(record.ts), record.client, record.user_agent) in judged_bots] += 1
    return outcome, totals


def test_the_filter_removes_95_percent_of_bots_and_keeps_99_percent_of_people():
    outcome, totals = judged()
    bot_requests = outcome[True, True] + outcome[True, False]
    people = outcome[False, False] + outcome[False, True]
    assert bot_requests + people >= 2_000
    assert bot_requests >= 1_000 and people >= 1_000
    removed, kept = outcome[True, True] / bot_requests, outcome[False, False] / people
    print(f"\nlabelled fixture: {bot_requests:,} bot requests, {people:,} people's requests")
    print(f"bots removed: {removed:.2%} (at least 95 %), people kept: {kept:.2%} (at least 99 %)")
    assert removed >= 0.95
    assert kept >= 0.99
    reasons = {value for (_, dimension, value) in totals.breakdown if dimension == "bot_reason"}
    assert reasons == {bots.UA, bots.MONITOR, bots.SCANNER, bots.RATE}


def test_each_layer_is_needed():
    """Without the request-rate and scanner rules (a zero threshold is no threshold here: huge
    values), the crawler that looks like Chrome, the flood and the Firefox-like scanner pass."""
    lax = bots.Rules(max_per_minute=10**9, max_pages_without_assets=10**9, scanner_hits=10**9)
    outcome, _ = judged(lax)
    removed = outcome[True, True] / (outcome[True, True] + outcome[True, False])
    assert removed < 0.95


@pytest.mark.parametrize(
    "agent,reason",
    [
        ("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", bots.UA),
        ("Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)", bots.UA),
        (traffic.HEADLESS, bots.UA),
        ("python-requests/2.32.3", bots.UA),
        ("curl/8.5.0", bots.UA),
        ("", bots.UA),
        ("-", bots.UA),
        ("Mozilla/5.0 (compatible; Nuclei)", bots.UA),
        ("Monit/5.33.0", bots.MONITOR),
        ("Mozilla/5.0+(compatible; UptimeRobot/2.0; http://www.uptimerobot.com/)", bots.MONITOR),
        ("kube-probe/1.29", bots.MONITOR),
        (traffic.BROWSERS[0], ""),
        (traffic.BROWSERS[1], ""),
        (traffic.BROWSERS[3], ""),
        (traffic.BROWSERS[4], ""),
    ],
)
def test_agents(agent, reason):
    assert bots.Filter().agent(agent)[0] == reason


def test_the_operators_ignore_list():
    bot_filter = bots.Filter(bots.Rules(ignore_agents=("kokasen-loadtest",), ignore_networks=("192.0.2.0/24",)))
    assert bot_filter.agent("kokasen-loadtest/1 " + traffic.BROWSERS[0])[0] == bots.IGNORED
    assert bot_filter.address_ignored("192.0.2.7")
    assert not bot_filter.address_ignored("198.51.100.7")
    assert not bot_filter.address_ignored("not an address")


def test_devices():
    assert [classify.device(agent) for agent in traffic.BROWSERS] == [
        "desktop",
        "desktop",
        "desktop",
        "mobile",
        "mobile",
    ]
    assert classify.device("Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X)") == "tablet"
    assert (
        classify.device("Mozilla/5.0 (Linux; Android 14; SM-X710) AppleWebKit/537.36 Chrome/131 Safari/537.36")
        == "tablet"
    )
    assert classify.device("curl/8.5.0") == "other"
