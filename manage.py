#!/usr/bin/env python
import os
import sys

if __name__ == "__main__":
    if not os.environ.get("DJANGO_SETTINGS_MODULE"):
        # The development settings are the default on a developer's machine only. On a server
        # (the installer's environment file exists, or KOKASEN_ENV_FILE names one) stop instead
        # of running with DEBUG, the console mail backend and local defaults.
        from kokasen.settings.env import server_env_file

        env_file = server_env_file()
        if env_file is not None:
            sys.stderr.write(
                f"このマシンはサーバーです（環境ファイル {env_file}）。manage.py は開発用の設定では動きません。\n"
                "本番の設定と環境ファイルを使う deploy/bin/kokasen-manage で実行してください。\n"
                "例: /srv/kokasen/app/deploy/bin/kokasen-manage send_outbox\n"
            )
            sys.exit(2)
        os.environ["DJANGO_SETTINGS_MODULE"] = "kokasen.settings.dev"
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
