"""The export's forked renderers (SiteExporter.render with jobs > 1) against one process.

Not in a test transaction (no django_db mark): the forked processes open connections of their
own and see only what is committed, here the session's demo site. pytest-django creates the
test database for the session's marked tests: run this file with others that use the database
(as the CI does); alone, demo_site refuses the unconverted database name."""

import pytest

from kokasen.static_export import builder

from .test_precomputed import tree


def test_two_rendering_processes_give_the_files_of_one(demo_site, django_db_blocker, tmp_path):
    """The forked renderers (jobs=2: the collector frozen before the fork, search entries made in
    the children) write the same files, byte for byte, as one process. Forking needs a database
    the children can open: PostgreSQL, as in production (the CI's PostgreSQL pass runs this)."""
    with django_db_blocker.unblock():
        if not builder.SiteExporter._can_fork():
            pytest.skip("an in-memory SQLite database cannot be shared with forked processes")
        builder.export_site(out_dir=tmp_path / "one", jobs=1)
        builder.export_site(out_dir=tmp_path / "two", jobs=2)
    one, two = tree(tmp_path / "one"), tree(tmp_path / "two")
    assert one.keys() == two.keys()
    assert sorted(name for name in one if one[name] != two[name]) == []
    assert sum(name.endswith(".html") for name in one) > 50
