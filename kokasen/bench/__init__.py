"""Benchmarks (`make bench`): each module builds what it measures on a throw-away database and
prints figures for people to read (on the Django of ``scratch.py``); nothing is asserted. Not product code: no app imports them
(decision 0022).

- ``python -m kokasen.bench.export``: the static export (demo + 1,000 articles + 200 news).
- ``python -m kokasen.bench.provisioning``: import + queue for 1,788 local governments, then the
  send rate over STARTTLS to a loopback SMTP server.
- ``python -m kokasen.bench.tips_board``: the 小ネタ topic page with 1,000 posts, in-process and
  under gunicorn.
- ``python -m kokasen.bench.members_pages``: the 小ネタ topic page and the members' home (and the
  area's index pages): server time, CPU and queries per request, then gunicorn + wrk
  (``build`` and ``measure_in_process`` are importable for a combined harness).
- ``python -m kokasen.bench.virus_scan`` and ``ops_scan``: clamd streaming the largest upload; ``ops_scan``
  over a generated month of municipal traffic.
- ``python -m kokasen.bench.performance`` (``make bench-performance``): issue 19 side by side: the
  hello floor (``hello.py``), the 小ネタ page, ``/members/``, a public page through nginx, nginx
  serving the export (requests/s, p50, p99, queries, CPU per request), then memory (decision 0063).
- ``python -m kokasen.bench.grouping``: the meeting grouping engine against sort-and-cut and the
  HiGHS solver (requirements-bench.txt).
"""
