"""The processes a load test runs against: gunicorn app servers started exactly as `make run` starts
one (gunicorn.conf.py), the notification worker, a throwaway PostgreSQL, and the CPU time each uses.

Every process is started by us, on 127.0.0.1, and killed by its own pid when the run ends.
"""
from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent.parent
BIN = Path(os.environ.get("VIRTUAL_ENV") or ROOT / ".venv") / "bin"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
APP = "server:create_app()"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def app_env(url: str, instance: Path, secret_key: str, data_key: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GUANJIA_") or k in (
        "GUANJIA_WORKER_CLASS", "GUANJIA_WORKERS", "GUANJIA_THREADS", "GUANJIA_WORKER_CONNECTIONS")}
    # Plain http on 127.0.0.1, as `make run` on a loopback host: the console's cookie is not Secure.
    env.update({"GUANJIA_DATABASE_URL": url, "GUANJIA_INSTANCE_PATH": str(instance),
                "GUANJIA_SECRET_KEY": secret_key, "GUANJIA_DATA_KEY": data_key, "GUANJIA_SESSION_COOKIE_SECURE": "0",
                "PYTHONUNBUFFERED": "1", **extra})
    return env


@dataclass
class Process:
    name: str
    popen: subprocess.Popen
    log: Path
    url: str | None = None

    @property
    def pid(self) -> int:
        return self.popen.pid


@dataclass
class Servers:
    """N app servers and one notification worker on one database."""

    apps: list[Process] = field(default_factory=list)
    worker: Process | None = None

    @property
    def urls(self) -> list[str]:
        return [p.url for p in self.apps]

    def all(self) -> list[Process]:
        return [*self.apps, *([self.worker] if self.worker else [])]


def _start(name: str, argv: list[str], env: dict[str, str], log: Path) -> Process:
    out = open(log, "wb")
    try:
        # A session of its own: the whole tree (gunicorn's master and workers) is stopped by one signal.
        popen = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    finally:
        out.close()
    return Process(name, popen, log)


def wait_healthy(url: str, process: Process, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.popen.poll() is not None:
            raise RuntimeError(f"{process.name} exited ({process.popen.returncode}): {tail(process.log)}")
        with contextlib.suppress(OSError):
            with urllib.request.urlopen(f"{url}/api/v1/health", timeout=2) as response:
                if response.status == 200:
                    return
        time.sleep(0.2)
    raise RuntimeError(f"{process.name} not healthy within {timeout:.0f} s: {tail(process.log)}")


def tail(path: Path, lines: int = 20) -> str:
    with contextlib.suppress(OSError):
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    return ""


def start_app(name: str, env: dict[str, str], log: Path) -> Process:
    """One gunicorn as `make run` starts it (gunicorn.conf.py), on a free port of 127.0.0.1."""
    port = free_port()
    process = _start(name, [str(BIN / "gunicorn"), "-c", str(ROOT / "gunicorn.conf.py"),
                            "--bind", f"127.0.0.1:{port}", APP], env, log)
    process.url = f"http://127.0.0.1:{port}"
    return process


@contextlib.contextmanager
def running(count: int, env: dict[str, str], logs: Path, *, worker: bool = True) -> Iterator[Servers]:
    """`count` gunicorns (gunicorn.conf.py, as `make run`) on free ports and the notification worker."""
    logs.mkdir(parents=True, exist_ok=True)
    servers = Servers()
    try:
        subprocess.run([str(BIN / "flask"), "--app", "server", "vapid-keys"], cwd=ROOT, env=env, check=True,
                       capture_output=True, timeout=60)
        if worker:
            servers.worker = _start("notify-worker", [str(BIN / "flask"), "--app", "server", "notify-worker"], env,
                                    logs / "notify-worker.log")
        for i in range(count):
            servers.apps.append(start_app(f"app{i + 1}", env, logs / f"app{i + 1}.log"))
        for process in servers.apps:
            wait_healthy(process.url, process)
        yield servers
    finally:
        for process in servers.all():
            stop(process)


def stop(process: Process, timeout: float = 15.0) -> None:
    if process.popen.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)  # its own session: the master and its workers
    try:
        process.popen.wait(timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.popen.wait(5)


# ---- CPU time ---------------------------------------------------------------------------------------

def _stats() -> dict[int, tuple[int, float]]:
    """pid -> (parent pid, CPU seconds of the process plus its reaped children)."""
    out = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            raw = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        fields = raw[raw.rindex(")") + 2:].split()  # after "pid (comm) "
        ppid = int(fields[1])
        utime, stime, cutime, cstime = (int(x) for x in fields[11:15])
        out[int(entry.name)] = (ppid, (utime + stime + cutime + cstime) / CLOCK_TICKS)
    return out


def tree_cpu_seconds(root: int, stats: dict[int, tuple[int, float]] | None = None) -> float:
    """CPU seconds used so far by a process and all its descendants (the exited ones once reaped)."""
    stats = stats if stats is not None else _stats()
    children: dict[int, list[int]] = {}
    for pid, (ppid, _) in stats.items():
        children.setdefault(ppid, []).append(pid)
    total, todo = 0.0, [root]
    while todo:
        pid = todo.pop()
        if pid in stats:
            total += stats[pid][1]
        todo.extend(children.get(pid, []))
    return total


def cpu_snapshot(roots: dict[str, int]) -> dict[str, float]:
    stats = _stats()
    return {name: tree_cpu_seconds(pid, stats) for name, pid in roots.items()}


# ---- a throwaway PostgreSQL ---------------------------------------------------------------------------

@contextlib.contextmanager
def throwaway_postgres(durable: bool = True, tcp: bool = False) -> Iterator[tuple[str, int | None]]:
    """scripts/throwaway-postgres (with --durable: fsync and synchronous commit on); yields the URL of
    its first database and the postmaster's pid. The URL names its Unix socket, as an app server
    beside its database would connect (TCP over loopback costs both sides CPU in the kernel for
    every statement), unless `tcp`."""
    argv = [str(ROOT / "scripts" / "throwaway-postgres"), "start", *(["--durable"] if durable else [])]
    started = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    if started.returncode != 0:
        raise RuntimeError(f"throwaway-postgres: {started.stderr.strip()}")
    exports = dict(line.removeprefix("export ").split("=", 1) for line in started.stdout.splitlines()
                   if line.startswith("export "))
    directory = exports["PG_TMPDIR"]
    url = sa.make_url(exports["GUANJIA_TEST_POSTGRES_URL"])
    if not tcp:  # its Unix socket, in its directory
        url = url.set(host=None, port=None, query={"host": directory, "port": str(url.port)})
    try:
        yield url.render_as_string(hide_password=False), postmaster_pid(Path(directory) / "data")
    finally:
        subprocess.run([str(ROOT / "scripts" / "throwaway-postgres"), "stop", directory], capture_output=True,
                       timeout=120)


def postmaster_pid(data: Path) -> int | None:
    with contextlib.suppress(OSError, ValueError, IndexError):
        return int((data / "postmaster.pid").read_text().splitlines()[0])
    return None
