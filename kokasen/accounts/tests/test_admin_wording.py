"""Wagtail's own admin chrome, in Japanese where Wagtail has no translation."""

import pytest

pytestmark = pytest.mark.django_db


def test_the_admin_help_menu_is_labelled_in_japanese(client):
    import json
    import re

    from kokasen.accounts import roles
    from kokasen.testing import login_staff, make_staff

    login_staff(client, make_staff(roles.OPERATOR))
    content = client.get("/admin/").content.decode()
    props = re.search(r'<script id="wagtail-sidebar-props" type="application/json">(.*?)</script>', content, re.S)
    labels = {}

    def walk(node):
        if isinstance(node, dict):
            if isinstance(node.get("name"), str) and "label" in node:
                labels[node["name"]] = node["label"]
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(json.loads(props.group(1)))
    assert labels["help"] == "ヘルプ"
