"""Print the demo's sample PDFs (tagged) with Debian's Chromium: ``python -m kokasen.demo.make_pdfs``.

Writes data/pdfs/<filename> for every sample document (see sample_pdfs.py); commit the result.
Needs Debian's chromium and Playwright (both there for the browser tests), not Django.
"""

from __future__ import annotations

import sys

from .sample_pdfs import PDF_DIR, documents, html, path

CHROMIUM = "/usr/bin/chromium"


def main() -> int:
    from playwright.sync_api import sync_playwright

    PDF_DIR.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page()
            for spec in documents():
                page.set_content(html(spec), wait_until="load")
                target = path(spec["filename"])
                target.write_bytes(page.pdf(format="A4", prefer_css_page_size=True, tagged=True, outline=True))
                print(f"{target.relative_to(PDF_DIR.parent.parent)}: {target.stat().st_size // 1024} KB")
        finally:
            browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
