"""What deploy/install.sh asks on every run, in one start of Django (decision 0029):

    migrations_pending=0
    superuser=yes

migrations_pending counts the migrations of the installed code not yet applied (what
``migrate --check`` looks at); superuser says whether the first 管理者 exists (create_first_admin).
Reads only; changes nothing.
"""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import connection
from django.db.migrations.executor import MigrationExecutor


class Command(BaseCommand):
    help = "Print migrations_pending=N and superuser=yes|no for deploy/install.sh; changes nothing."

    def handle(self, *args, **options):
        executor = MigrationExecutor(connection)
        pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
        superuser = get_user_model().objects.filter(is_superuser=True).exists() if not pending else False
        self.stdout.write(f"migrations_pending={len(pending)}\nsuperuser={'yes' if superuser else 'no'}")
