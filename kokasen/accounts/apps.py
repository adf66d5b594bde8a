from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "kokasen.accounts"
    verbose_name = "アカウント"

    def ready(self):
        from django.db.models.signals import post_migrate

        from . import roles

        post_migrate.connect(roles.ensure_role_groups_after_migrate)

        from . import login_audit

        login_audit.connect()

        from . import session_expiry

        session_expiry.connect()  # a login's expiry is a fixed date, extended on request (decision 0066)

        from kokasen.core import request_cache

        from . import facts, sessions, user_rows

        request_cache.register(sessions.prefetch_keys)  # the session and the generations in one round trip
        request_cache.register(facts.prefetch_keys)
        request_cache.register(user_rows.prefetch_keys)  # the session's user row, kept beside it (decision 0069)
        user_rows.connect()  # any write to a user row replaces the kept rows' generation
        facts.connect()  # a group, permission or user change replaces the cached access facts  # audit every login attempt (docs/decisions/0007-login-security.md)
