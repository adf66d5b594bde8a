"""docs/configuration.md names every setting of ops_scan and every threshold, and
docs/operations.md every rule (the screen's names)."""

from pathlib import Path

from django.conf import settings

from kokasen.ops.detection import RULES

DOCS = Path(settings.BASE_DIR) / "docs"


def test_every_setting_and_threshold_is_documented():
    configuration = (DOCS / "configuration.md").read_text(encoding="utf-8")
    names = [name for name in dir(settings) if name.startswith("OPS_") and name != "OPS_THRESHOLDS"]
    assert len(names) >= 15
    missing = [name for name in names if f"`{name}`" not in configuration and f"{name}`" not in configuration]
    missing += [name for name in settings.OPS_THRESHOLDS if f"`{name}`" not in configuration]
    assert not missing, missing


def test_every_rule_is_in_the_operations_guide():
    operations = (DOCS / "operations.md").read_text(encoding="utf-8")
    assert [label for label in RULES.values() if label not in operations] == []
