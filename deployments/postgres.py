"""The project-managed PostgreSQL that the Prefect server can run on (many pipelines at once).

SQLite serialises writers: with several pipelines at once the server answers "database is locked"
and clients back off 2–4 s (reference/prefect.md §2). This module runs Debian's PostgreSQL 15 with
every file under the state folder: ``initdb`` into ``STATE/postgres/data``, listening on 127.0.0.1
only (a free port) and on a unix socket in ``STATE/postgres/run``. The database password is
generated once and kept as a secret reference (``file:STATE/postgres/password``, 0600); it is only
ever put into the Prefect server's environment, never printed. PostgreSQL refuses to run as root,
so as root it runs as the unprivileged ``postgres`` user (created by Debian's package) that owns
the data folder. Started and stopped by PID, like the managed Prefect server.
"""

from __future__ import annotations

import json
import os
import pwd
import secrets
import signal
import stat
import subprocess
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import quote

from pydantic import SecretStr

from securemode.paths import state_dir
from securemode.process_identity import free_port, pid_alive, stop_process
from securemode.secrets import resolve

PG_BIN = Path(os.environ.get("SECUREMODE_PG_BIN", "/usr/lib/postgresql/15/bin"))
HOST = "127.0.0.1"
DB_USER = "prefect"
DB_NAME = "prefect"
SERVICE_USER = "postgres"
START_TIMEOUT_S = 60.0


class PostgresError(Exception):
    """PostgreSQL could not be set up or started; the message names the cause and the fix."""


@dataclass(frozen=True)
class PostgresInfo:
    pid: int
    port: int

    @property
    def password_ref(self) -> str:
        return f"file:{_password_path()}"

    def connection_url(self) -> SecretStr:
        """The asyncpg URL for Prefect; secret because it carries the password."""
        password = resolve(self.password_ref).get_secret_value()
        return SecretStr(f"postgresql+asyncpg://{DB_USER}:{quote(password, safe='')}@{HOST}:{self.port}/{DB_NAME}")


def _root() -> Path:
    return state_dir() / "postgres"


def _data_dir() -> Path:
    return _root() / "data"


def _socket_dir() -> Path:
    return _root() / "run"


def _password_path() -> Path:
    return _root() / "password"


def _record_path() -> Path:
    return _root() / "postgres.json"


def _log_path() -> Path:
    return _root() / "postgres.log"


def _binary(name: str) -> str:
    path = PG_BIN / name
    if not path.exists():
        raise PostgresError(f"{path} not found. Fix: apt-get install -y postgresql (bin/setup installs it)")
    return str(path)


def _service_account() -> pwd.struct_passwd | None:
    """The unprivileged account PostgreSQL runs as when we are root; None when we are not root."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(SERVICE_USER)
    except KeyError:
        raise PostgresError(f"PostgreSQL refuses to run as root and there is no '{SERVICE_USER}' user. "
                            "Fix: apt-get install -y postgresql (its package creates the user)") from None


def _check_reachable(path: Path, account: pwd.struct_passwd) -> None:
    """The service account must be able to walk down to the data folder; the state folder itself is ours."""
    state = state_dir()
    mode = state.stat().st_mode
    if not mode & stat.S_IXOTH:
        state.chmod(mode | stat.S_IXOTH)  # traverse only: nothing in it becomes listable or readable
    for parent in state.parents:
        st = parent.stat()
        if st.st_uid == account.pw_uid or st.st_mode & stat.S_IXOTH or (
                st.st_gid == account.pw_gid and st.st_mode & stat.S_IXGRP):
            continue
        raise PostgresError(f"the '{SERVICE_USER}' user cannot reach {path} because {parent} is closed to it. "
                            f"Fix: chmod o+x {parent}, or set SECUREMODE_STATE_DIR to a folder outside it")


def _own(path: Path, account: pwd.struct_passwd | None, mode: int) -> None:
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(mode)
    if account is not None:
        os.chown(path, account.pw_uid, account.pw_gid)


def _run(args: list[str], account: pwd.struct_passwd | None, **kw: object) -> subprocess.CompletedProcess[str]:
    user = {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []} if account else {}
    return subprocess.run(args, capture_output=True, text=True, check=False, **user,
    **kw)  # type: ignore[call-overload, no-any-return]


def _password() -> str:
    """The database password, generated on first use into a 0600 file readable only by us."""
    path = _password_path()
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(secrets.token_urlsafe(24))
    return resolve(f"file:{path}").get_secret_value()


def _initdb(account: pwd.struct_passwd | None) -> None:
    """Create the cluster once; the password reaches initdb through a short-lived 0600 file of its owner."""
    data = _data_dir()
    if (data / "PG_VERSION").exists():
        return
    _own(data, account, 0o700)
    pwfile = _root() / "initdb.pw"
    fd = os.open(pwfile, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(_password() + "\n")
    if account is not None:
        os.chown(pwfile, account.pw_uid, account.pw_gid)
    try:
        done = _run([_binary("initdb"), "-D", str(data), "-U", DB_USER, f"--pwfile={pwfile}", "-E", "UTF8",
                     "--auth-local=scram-sha-256", "--auth-host=scram-sha-256", "--no-instructions"], account)
    finally:
        pwfile.unlink(missing_ok=True)
    if done.returncode != 0:
        raise PostgresError(f"initdb failed (exit {done.returncode}): {done.stderr.strip()[-400:]}")


def current() -> PostgresInfo | None:
    """The PostgreSQL we started earlier, if its postmaster is still alive."""
    try:
        info = PostgresInfo(**json.loads(_record_path().read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):
        return None
    return info if pid_alive(info.pid) else None


def ready(info: PostgresInfo) -> bool:
    """True when the postmaster accepts connections on its TCP port."""
    done = subprocess.run([_binary("pg_isready"), "-q", "-h", HOST, "-p", str(info.port)], check=False,
                          capture_output=True)
    return done.returncode == 0


def _ensure_database(info: PostgresInfo) -> None:
    env = {**os.environ, "PGPASSWORD": _password()}
    found = subprocess.run([_binary("psql"), "-h", HOST, "-p", str(info.port), "-U", DB_USER, "-d", "postgres",
                            "-tAc", "SELECT 1 FROM pg_database WHERE datname = 'prefect'"],
                           capture_output=True, text=True, env=env, check=False)
    if found.returncode != 0:
        raise PostgresError(f"cannot query PostgreSQL: {found.stderr.strip()[-300:]}")
    if found.stdout.strip() == "1":
        return
    made = subprocess.run([_binary("createdb"), "-h", HOST, "-p", str(info.port), "-U", DB_USER, DB_NAME],
                          capture_output=True, text=True, env=env, check=False)
    if made.returncode != 0:
        raise PostgresError(f"createdb failed: {made.stderr.strip()[-300:]}")


def ensure_running() -> tuple[PostgresInfo, bool]:
    """Return the running PostgreSQL, initialising and starting it if needed; the flag says whether we started it."""
    info = current()
    if info is not None and ready(info):
        return info, False
    if info is not None:
        stop()
    account = _service_account()
    root = _root()
    root.mkdir(parents=True, exist_ok=True)
    root.chmod(0o711)
    if account is not None:
        _check_reachable(root, account)
    _initdb(account)
    _own(_socket_dir(), account, 0o700)
    port = free_port(HOST)
    log = _log_path().open("ab")
    user = {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []} if account else {}
    proc = subprocess.Popen(  # type: ignore[call-overload]
        [_binary("postgres"), "-D", str(_data_dir()), "-p", str(port), "-c", f"listen_addresses={HOST}",
         "-c", f"unix_socket_directories={_socket_dir()}", "-c", "max_connections=200"],
        stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True, **user)
    log.close()
    info = PostgresInfo(pid=proc.pid, port=port)
    _record_path().write_text(json.dumps(asdict(info)), encoding="utf-8")
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            _record_path().unlink(missing_ok=True)
            raise PostgresError(f"postgres exited with code {proc.returncode}; see {_log_path()}")
        if ready(info):
            _ensure_database(info)
            return info, True
        time.sleep(0.2)
    stop()
    raise PostgresError(f"postgres did not accept connections within {START_TIMEOUT_S:.0f} s; see {_log_path()}")


def stop() -> bool:
    """Stop our postmaster (fast shutdown: SIGINT); True if one was running."""
    info = current()
    _record_path().unlink(missing_ok=True)
    if info is None:
        return False
    stop_process(info.pid, signal.SIGINT, signal.SIGQUIT, 30, group=False)
    return True
