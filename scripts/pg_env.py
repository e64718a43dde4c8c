"""A database URL (read from stdin, never an argument: no secret on a command line) as
libpq's environment variables, printed as shell `export` lines for scripts/backup.sh and
scripts/restore.sh to eval: PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE and the
query parameters libpq knows as variables (sslmode=require → PGSSLMODE). pg_dump,
pg_restore and psql then run without the URL, so `ps` never shows the password.

Accepts SQLAlchemy's postgresql+psycopg://, libpq's postgresql:// and the platform's
postgres://. Only parts the URL has are exported (libpq's defaults and any PG* variables
already set apply to the rest, as they did with the URL). An unknown query parameter is
refused by name (its value is not printed). Standard library only.
"""

import shlex
import sys
from urllib.parse import parse_qsl, unquote, urlsplit

PARAMS = {
    "host": "PGHOST",
    "port": "PGPORT",
    "user": "PGUSER",
    "password": "PGPASSWORD",
    "dbname": "PGDATABASE",
    "sslmode": "PGSSLMODE",
    "sslrootcert": "PGSSLROOTCERT",
    "sslcert": "PGSSLCERT",
    "sslkey": "PGSSLKEY",
    "sslcrl": "PGSSLCRL",
    "connect_timeout": "PGCONNECT_TIMEOUT",
    "application_name": "PGAPPNAME",
    "options": "PGOPTIONS",
    "target_session_attrs": "PGTARGETSESSIONATTRS",
    "gssencmode": "PGGSSENCMODE",
    "channel_binding": "PGCHANNELBINDING",
}


def main() -> int:
    url = urlsplit(sys.stdin.read().strip())
    if url.scheme.split("+")[0] not in ("postgresql", "postgres"):
        print("not a PostgreSQL URL (postgresql://, postgresql+psycopg:// or postgres://)", file=sys.stderr)
        return 2
    try:
        port = url.port
    except ValueError:
        print("the URL's port is not a number", file=sys.stderr)
        return 2
    env = {
        "PGHOST": url.hostname,
        "PGPORT": str(port) if port else None,
        "PGUSER": unquote(url.username) if url.username else None,
        "PGPASSWORD": unquote(url.password) if url.password is not None else None,
        "PGDATABASE": unquote(url.path.lstrip("/")),  # empty when the URL names none
    }
    for name, value in parse_qsl(url.query, keep_blank_values=True):
        if name not in PARAMS:
            print(f"unsupported parameter in the database URL: {name}", file=sys.stderr)
            return 2
        env[PARAMS[name]] = value
    for var, value in env.items():
        if value is not None:
            print(f"export {var}={shlex.quote(value)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
