from django.conf import settings

# The PostgreSQL backend's tests need a PostgreSQL server: they belong to the PostgreSQL run
# (`-p tests.support.pg_plugin --db=postgres`, part of `make test`), not to the SQLite one.
collect_ignore = (
    []
    if "postgresql" in settings.DATABASES["default"]["ENGINE"]
    else ["test_postgresql_backend.py"]
)
