import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from kokasen.accounts import roles, services


class Command(BaseCommand):
    help = (
        "The first 管理者 of a fresh installation (deploy/install.sh runs it): a superuser in the "
        "管理者 group with a generated password, and a printed one-time invitation to enrol an "
        "authenticator app (decision 0020). Refused once any superuser exists (install_state says "
        "whether one does). Prints KEY=value lines for the installer, which keeps them in a file "
        "only root can read."
    )

    def add_arguments(self, parser):
        parser.add_argument("--username", default="admin")
        parser.add_argument("--email", default="")

    def handle(self, *args, username, email, **options):
        User = get_user_model()
        if User.objects.filter(is_superuser=True).exists():
            raise CommandError(
                "管理者（スーパーユーザー）はすでにいます。招待の再発行は invite_staff_enrolment を使ってください。"
            )
        if not email or "@" not in email:
            raise CommandError("--email に最初の管理者のメールアドレスを指定してください。")
        if User.objects.filter(username=username).exists():
            raise CommandError(f"ユーザー「{username}」はすでにあります。別の --username を指定してください。")
        password = secrets.token_urlsafe(15)  # 20 characters, well above the 12 the validators ask for
        with transaction.atomic():
            user = User.objects.create_superuser(username, email=email, password=password)
            user.groups.add(roles.ensure_role_groups()[roles.AGENCY_ADMIN])
            issued = services.enrolment_invitation_issue(
                user=user, print_link=True, issued_by_label="インストーラー（deploy/install.sh）"
            )
        expires = f"{timezone.localtime(issued.invitation.expires_at):%Y-%m-%d %H:%M}"
        self.stdout.write(f"username={username}\npassword={password}\nlink={issued.link}\nexpires={expires}")
