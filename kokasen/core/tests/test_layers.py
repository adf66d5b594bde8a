"""The import contracts of pyproject.toml ([tool.importlinter], decision 0022), so that an app
borrowing upwards or sideways fails `make test` as well as `make lint`."""

from pathlib import Path

from importlinter import api  # noqa: F401  (configures import-linter's adapters)
from importlinter.application import use_cases

PYPROJECT = Path(__file__).resolve().parents[3] / "pyproject.toml"


def test_apps_import_only_downwards(capsys):
    kept = use_cases.lint_imports(config_filename=str(PYPROJECT), cache_dir=None, no_logo=True)
    assert kept, capsys.readouterr().out
