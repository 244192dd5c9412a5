import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "taskapi.settings.base")
    from django.core.management import execute_from_command_line

    from taskapi.settings.env import configuration_checked

    # A bad environment variable: one line that names it, and exit 3, for every command.
    with configuration_checked():
        execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
