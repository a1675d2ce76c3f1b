"""Find a PostgreSQL server for Pinboard, or start a project-local one, and print its DATABASE_URL.

Order: $DATABASE_URL if set (it must answer: an explicit setting is never silently replaced);
otherwise the machine's server at 127.0.0.1:5432; otherwise a project-local server whose data
lives in .pgdata/ (git-ignored) on its own port. The database named in the URL is created if
missing. Everything but the URL goes to stderr so `DATABASE_URL=$(.ci/ensure-postgres)` works.
"""

import glob
import os
import pwd
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

PROJECT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/pinboard"
LOCAL_PORT = int(os.environ.get("PINBOARD_LOCAL_PG_PORT", "54329"))
LOCAL_DIR = PROJECT / ".pgdata"
INSTALL_HINT = (
    "No PostgreSQL server answers and none is installed.\n"
    "Install PostgreSQL 15 or newer, then run the command again:\n"
    "  Debian/Ubuntu: sudo apt-get install -y postgresql\n"
    "  macOS:         brew install postgresql@17\n"
    "or point DATABASE_URL at a server you have."
)


def say(message: str) -> None:
    print(message, file=sys.stderr)


def maintenance_url(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/postgres"))


def database_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/") or "pinboard"


def server_error(url: str) -> str | None:
    """None if the server answers and accepts us, else why not."""
    try:
        with psycopg.connect(maintenance_url(url), connect_timeout=3):
            return None
    except psycopg.Error as exc:
        return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def ensure_database(url: str) -> None:
    name = database_name(url)
    with psycopg.connect(maintenance_url(url), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            say(f"Created database {name!r}.")


def server_bindir() -> Path | None:
    if pg_config := shutil.which("pg_config"):
        bindir = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True).stdout
        if (Path(bindir.strip()) / "pg_ctl").exists():
            return Path(bindir.strip())
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/pg_ctl")
        + glob.glob("/opt/homebrew/opt/postgresql*/bin/pg_ctl")
        + glob.glob("/usr/local/opt/postgresql*/bin/pg_ctl"),
        key=lambda p: [int(x) if x.isdigit() else 0 for x in Path(p).parts[-3].split("@")[-1:]],
    )
    if candidates:
        return Path(candidates[-1]).parent
    if pg_ctl := shutil.which("pg_ctl"):
        return Path(pg_ctl).parent
    return None


def run_as_server_user(command: list[str]) -> None:
    """PostgreSQL refuses to run as root: as root, run it as the `postgres` (or `nobody`) user."""
    if os.geteuid() != 0:
        subprocess.run(command, check=True, stdout=sys.stderr)
        return
    for name in ("postgres", "nobody"):
        try:
            user = pwd.getpwnam(name)
        except KeyError:
            continue
        for path in [LOCAL_DIR, *LOCAL_DIR.rglob("*")]:
            os.chown(path, user.pw_uid, user.pw_gid)
        subprocess.run(
            ["runuser", "-u", name, "--", *command], check=True, stdout=sys.stderr, cwd="/"
        )
        return
    raise SystemExit("Running as root and no 'postgres' or 'nobody' user to run PostgreSQL as.")


def start_local_server() -> str:
    bindir = server_bindir()
    if bindir is None:
        raise SystemExit(INSTALL_HINT)
    url = f"postgres://postgres@127.0.0.1:{LOCAL_PORT}/pinboard"
    if server_error(url) is None:
        return url
    data = LOCAL_DIR / "data"
    LOCAL_DIR.mkdir(exist_ok=True)
    if not (data / "PG_VERSION").exists():
        say(f"Creating a project-local PostgreSQL cluster in {data} ...")
        run_as_server_user(
            [
                str(bindir / "initdb"),
                "-D",
                str(data),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
            ]
        )
    say(f"Starting the project-local PostgreSQL on 127.0.0.1:{LOCAL_PORT} ...")
    options = f"-p {LOCAL_PORT} -k {LOCAL_DIR} -c listen_addresses=127.0.0.1"
    run_as_server_user(
        [str(bindir / "pg_ctl"), "-D", str(data), "-l", str(LOCAL_DIR / "server.log"),
         "-o", options, "-w", "start"]
    )  # fmt: skip
    return url


def main() -> None:
    explicit = os.environ.get("DATABASE_URL")
    url = explicit or DEFAULT_URL
    error = server_error(url)
    if error is not None:
        if explicit:
            raise SystemExit(f"DATABASE_URL={explicit} does not answer: {error}")
        say(f"No usable PostgreSQL at 127.0.0.1:5432 ({error}); using a project-local server.")
        url = start_local_server()
    ensure_database(url)
    print(url)


if __name__ == "__main__":
    main()
