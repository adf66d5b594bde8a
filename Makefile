# kokasen: the two commands a newcomer needs are `make run` and `make test` (see README).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# nginx: the tests run `nginx -t` on deploy/nginx/ and serve its error pages on loopback
# (Debian starts its default site on port 80 after installing; `systemctl disable --now nginx` if unwanted).
# systemd: `systemd-analyze verify` on deploy/systemd/ (kokasen/core/tests/test_deploy_systemd.py).
# nftables, iproute2: `nft -c` on deploy/nftables/ and the ruleset between two test network namespaces.
# fail2ban: fail2ban-regex and `fail2ban-client -t` on deploy/fail2ban/; logrotate: `logrotate -d` on deploy/logrotate/.
# clamav-daemon (clamd), clamav (sigtool): the virus-checking tests run a real clamd with a test signature
# database made by sigtool (kokasen/testing/clamd.py); no official signatures are downloaded. Debian's own
# clamav-daemon and clamav-freshclam services need not run for the tests.
# redis-server: the Redis-outage tests start their own Redis and stop it part way (kokasen/core/tests/test_resilient_cache.py).
# The full-stack test (kokasen/ops/tests/test_full_stack.py) runs nginx, redis-server, clamd and openssl together,
# with gunicorn from the venv and PostgreSQL on 127.0.0.1:5432 (this kind of machine runs it; .ci/run starts it).
# deploy/install.sh runs twice into a scratch root (kokasen/core/tests/test_installer.py): every package it
# installs on a server is here too, so that its first run finds them (postgresql, rsync for the code, python3-venv
# for Debian's Python, python3-systemd for fail2ban's sshd jail, clamav-freshclam). shellcheck: `make lint` on deploy/.
# poppler-utils: pdftoppm, to look at the generated reports' PDF pages as images (no test runs it).
# restic: the backups and their restore drill (kokasen/ops/tests/test_backups.py, make bench); monit: the service
# monitor, checked with monit -t and run in the foreground in the full-stack test (decision 0040).
# fonts-ipaexfont-gothic: IPAex Gothic, the TrueType font embedded in the meetings report PDF (decision 0037;
# a server makes the PDF too, so deploy/install.sh installs it as well).
# firefox-esr (driven over Marionette), webkit2gtk-driver (WebKitWebDriver and MiniBrowser) and xvfb (MiniBrowser's display):
# the three-engine journeys of kokasen/pages/tests/test_browser_engines.py (decision 0046).
# gettext: msgfmt for make messages and the test that the committed locale/ja .mo is the .po compiled
# (decision 0053; production needs nothing, the .mo is committed).
APT_PACKAGES := chromium fonts-noto-cjk fonts-ipaexfont-gothic openssl nginx systemd nftables iproute2 fail2ban logrotate clamav-daemon clamav redis-server \
	postgresql rsync python3-venv python3-systemd clamav-freshclam shellcheck poppler-utils restic monit firefox-esr webkit2gtk-driver xvfb gettext
# make measure-stack only (never make test): testssl.sh (TLS protocols and suites), wapiti (web
# vulnerability scanner), wrk (the flood). The MDN HTTP Observatory comes from tools/package.json.
MEASURE_APT_PACKAGES := testssl.sh wapiti wrk
# make bench only: GoAccess (Debian's 1.7) measured beside the analytics' ingestion on the same log;
# wrk, the load of make bench-performance (issue 19's table); Hugo (Debian's 0.111) building the same
# corpus as the static export (kokasen/bench/export.py, decision 0062).
BENCH_APT_PACKAGES := goaccess wrk hugo
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: setup run test test-tools bench bench-performance bench-apt measure-stack export lint audit clean messages css

$(VENV)/.installed: requirements.txt requirements-dev.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11) and "kokasen needs Python 3.11")'
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip==26.3
	$(PIP) install --quiet -r requirements-dev.txt
	touch $@

## setup: virtual environment with the pinned dependencies, and the database migrated
setup: $(VENV)/.installed
	mkdir -p var
	$(PY) manage.py migrate --no-input -v 0

## run: the portal with demo content on http://127.0.0.1:8000 (SQLite unless DATABASE_URL is set)
run: setup
	$(PY) manage.py load_demo
	@echo "ポータル: http://$(HOST):$(PORT)/   管理画面: http://$(HOST):$(PORT)/admin/"
	$(PY) manage.py runserver $(HOST):$(PORT)

## test-tools: Chromium, Firefox ESR, WebKitGTK's WebDriver and Xvfb, Japanese fonts, Java and nginx (deploy/nginx is tested) from Debian; axe-core and the Nu HTML Checker from npm
test-tools: tools/node_modules/.installed
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	command -v java >/dev/null 2>&1 || missing="$$missing default-jre-headless"; \
	if [ -n "$$missing" ]; then \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi

tools/node_modules/.installed: tools/package.json tools/package-lock.json
	cd tools && npm ci --no-audit --no-fund --loglevel=error
	touch $@

## test: everything the tests need, then the whole suite
test: setup test-tools
	$(PY) -m pytest

## bench: the benchmarks of kokasen/bench/, each printing its figures (nothing asserted)
bench: setup
	$(PY) -m kokasen.bench.export  # static export (1,000 articles + 200 news) beside Hugo on the same corpus, peak RSS, one page republished (task, publish → file)
	$(PY) -m kokasen.bench.provisioning  # import + queue for 1,788 local governments, send rate over STARTTLS
	$(PY) -m kokasen.bench.tips_board  # topic page with 1,000 posts, in-process and under gunicorn + wrk
	$(PY) -m kokasen.bench.members_pages  # the 小ネタ topic page and /members/: server time, CPU ms and queries per request; gunicorn + wrk req/s, p50, p99
	$(PY) -m kokasen.bench.public_files  # publish → file updated (median of 20); wrk: anonymous page from its file, through the app, nginx static
	$(PY) -m kokasen.bench.grouping_screen  # grouping screen at 1,000 participants: bytes (and gzip), median/p95 server time, a move with and without JS
	$(PY) -m kokasen.bench.virus_scan  # clamd streaming a 2,000 MB upload: s, MB/s (clean, infected at the end, over the limit)
	$(PY) -m kokasen.bench.ops_scan  # ops_scan on ~1,000,000 lines of municipal traffic: lines/s of the reader and the scan
	$(MAKE) --no-print-directory bench-apt
	$(PY) -m kokasen.bench.performance  # issue 19 side by side: hello floor, 小ネタ, /members/, public page via nginx, static export; export vs Hugo, publish→file, memory
	$(PY) -m kokasen.bench.analytics_ingest  # ingest_access_logs on ~1,000,000 lines beside GoAccess 1.7: lines/s, peak memory
	$(PY) -m kokasen.bench.analytics_inputs  # a 10 MB gzip log through the upload screen: s, lines/s; a zero-result search with and without its upsert: ms, statements
	$(PY) -m kokasen.bench.analytics_dashboard  # the dashboard 「アクセス解析」 on a year of aggregates (PostgreSQL): median/p95 server time
	$(PY) -m kokasen.bench.analytics_report  # 効果分析報告書 (Word, PDF, Excel annex) on a year of aggregates on PostgreSQL: s per step, sizes, pages
	$(PY) -m kokasen.bench.backup  # restic backup and restore drill of the demo + 1,788 accounts + 10,000 posts + 200 MB media on PostgreSQL: s, MB
	$(PIP) install --quiet -r requirements-bench.txt && $(PY) -m kokasen.bench.grouping  # grouping vs. sort-and-cut and HiGHS

bench-apt:
	@missing=""; for p in $(BENCH_APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi

## bench-performance: only the side-by-side table of issue 19 (PostgreSQL kokasen_bench, Redis db 13, nginx, gunicorn, wrk; docs/operations.md)
bench-performance: setup bench-apt
	$(PY) -m kokasen.bench.performance

## measure-stack: the production stack on loopback (nginx on 127.0.0.1:80/443, as root) measured by the
## MDN HTTP Observatory, testssl.sh, wapiti and a wrk flood; prints each figure with its command (docs/operations.md)
measure-stack: setup test-tools
	@missing=""; for p in $(MEASURE_APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi
	$(SUDO) $(PY) -m kokasen.bench.stack

## css: join the stylesheets listed in static/css/portal-sources.css into static/css/portal.css, the one file pages link (commit both; decision 0065)
css:
	$(PY) -m kokasen.core.css_bundle

## messages: compile the project's Japanese catalogue (locale/ja/LC_MESSAGES/django.po → .mo; commit both; decision 0053)
messages:
	msgfmt --check -o locale/ja/LC_MESSAGES/django.mo locale/ja/LC_MESSAGES/django.po

## lint: ruff (checks and formatting), the import layers (decision 0022), the template linter, shellcheck on deploy/'s scripts, Django's system checks, no model change without its migration, and the compat lint: every CSS and JS feature of static/ supported by the browsers of tools/.browserslistrc (decision 0045)
lint: setup tools/node_modules/.installed
	$(VENV)/bin/ruff check kokasen
	$(VENV)/bin/ruff format --check kokasen
	shellcheck deploy/install.sh deploy/bin/*
	$(VENV)/bin/lint-imports --no-cache
	$(VENV)/bin/djlint templates --lint
	$(PY) manage.py check
	$(PY) manage.py makemigrations --check --dry-run
	tools/node_modules/.bin/stylelint --config tools/stylelint.config.mjs 'static/css/**/*.css'
	tools/node_modules/.bin/eslint --config tools/eslint.config.mjs 'static/js/**/*.js'

## audit: pip-audit over the pinned requirements (strict: a package it cannot look up is a failure),
## minus the reviewed ids of pip-audit-allowlist.txt. Needs https://pypi.org/pypi/<name>/<version>/json
## or https://api.osv.dev (-s osv): neither answers on the project's build machines, so this is not
## part of `make lint` (docs/security.md "Dependencies", decision 0031).
AUDIT_VENV := .venv-audit
$(AUDIT_VENV)/.installed: requirements-audit.txt
	$(PYTHON) -m venv $(AUDIT_VENV)
	$(AUDIT_VENV)/bin/pip install --quiet -r requirements-audit.txt
	touch $@

audit: $(AUDIT_VENV)/.installed
	$(AUDIT_VENV)/bin/pip-audit --strict --no-deps --disable-pip --progress-spinner off \
	  $$(sed -n 's/^\([A-Za-z0-9-]\{1,\}\).*/--ignore-vuln \1/p' pip-audit-allowlist.txt) \
	  -r requirements.txt -r requirements-dev.txt

clean:
	rm -rf $(VENV) $(AUDIT_VENV) var artifacts tools/node_modules
