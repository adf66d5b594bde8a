"""The committed static/css/portal.css is its sources joined (decision 0065): a page loads one
stylesheet instead of a chain of 26 imports."""

from kokasen.core import css_bundle


def test_the_committed_portal_css_is_its_sources_joined():
    assert css_bundle.BUNDLE.read_text(encoding="utf-8") == css_bundle.bundle(), (
        "static/css/portal.css is out of date: run `make css` and commit it"
    )


def test_every_component_stylesheet_is_in_the_bundle_and_none_is_imported_at_run_time():
    listed = css_bundle.imported_paths(css_bundle.SOURCES.read_text(encoding="utf-8"))
    components = sorted(f"components/{p.name}" for p in (css_bundle.CSS_DIR / "components").glob("*.css"))
    assert sorted(p for p in listed if p.startswith("components/")) == components
    assert listed[:2] == ["tokens.css", "base.css"]
    assert "@import" not in css_bundle.BUNDLE.read_text(encoding="utf-8")
