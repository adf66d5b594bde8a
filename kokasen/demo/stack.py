"""The demo content on the full stack (kokasen/testing/stack.py), run there inside
`deploy/bin/kokasen-manage shell` with the production settings and the stack's environment file."""

import json
import os
import time
from pathlib import Path


def seed() -> None:
    """Run inside `kokasen-manage shell` (production settings, the stack's environment file):
    migrate, the demo content (the loader itself: `load_demo` refuses production settings, and
    its admin account writes password files into the checkout), the members' accounts, collectstatic
    and the static export; writes what the tests need to KOKASEN_STACK_INFO."""
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from wagtail.documents import get_document_model
    from wagtail.images import get_image_model

    from kokasen.accounts import roles
    from kokasen.localgov.models import LocalGovernment

    from .loader import DemoLoader

    assert settings.KOKASEN_PRODUCTION and not settings.DEBUG, "the stack runs the production settings"
    timings = {}
    export = Path(os.environ["KOKASEN_STACK_EXPORT"])

    def step(name, work):
        started = time.monotonic()
        work()
        timings[name] = round(time.monotonic() - started, 1)

    def members():
        group = roles.ensure_role_groups()[roles.MEMBER]
        for code, password in json.loads(os.environ["KOKASEN_STACK_MEMBERS"]).items():
            user = get_user_model().objects.create_user(
                code, password=password, local_government=LocalGovernment.objects.get(code=code)
            )
            user.groups.add(group)

    step("migrate", lambda: call_command("migrate", interactive=False, verbosity=0))
    step("demo", DemoLoader(log=lambda *args: None).run)
    step("members", members)
    from datetime import timedelta

    from django.utils import timezone

    from kokasen.tips.models import Topic

    topic = Topic.objects.create(title="全体の試験のお題", opens_at=timezone.now() - timedelta(days=1))
    step("collectstatic", lambda: call_command("collectstatic", interactive=False, link=True, verbosity=0))
    step("published pages", lambda: call_command("write_published_pages", verbosity=0))  # as the installer does
    step("export", lambda: call_command("export_static_site", out=str(export), verbosity=0))

    video = get_document_model().objects.filter(file__endswith=".webm").order_by("pk").first()
    image = get_image_model().objects.filter(collection__depth=1).order_by("pk").first()
    exported = sorted(export.glob("media/**/*.pdf")) + sorted(export.glob("media/**/*.svg"))
    assert video is not None and image is not None and exported, "the demo content changed: update stack.seed"
    info = {
        "video": {"url": video.url, "path": str(Path(settings.MEDIA_ROOT) / video.file.name), "size": video.file.size},
        "public_image": image.file.url,
        "members_page": "/members/roundtables/",
        "topic_page": f"/members/tips/{topic.pk}/",  # an open 小ネタ topic: its page has the post form
        "export_file": "/" + exported[0].relative_to(export).as_posix(),
        "seconds": timings,
    }
    Path(os.environ["KOKASEN_STACK_INFO"]).write_text(json.dumps(info), encoding="utf-8")
