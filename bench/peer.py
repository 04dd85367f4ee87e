"""The reference stack beside Guanjia's sync: PouchDB replicating with a CouchDB-protocol server.

The peer benchmark is a folder of its own (`bench.js`, `server.js`, `gen.js` and a lockfile): a PouchDB
client and an express-pouchdb server, two node processes on 127.0.0.1, pushing 10,000 visits in
batches of 500, bootstrapping 28,000 documents and pulling 100 new ones incrementally. Its folder is
bench/pouchdb-peer/ (its README holds its method and reference figures), or the folder named by
BENCH_PEER (relative to the repository root). It is treated as read-only: it is copied to a temp folder, `npm ci` installs the pinned packages there, and
`SKIP_BIG=1 node bench.js` runs (the 200,000-visit part is left out; it takes minutes). The last
line it prints that is a JSON object holds its medians.

Without node, npm or the folder this part fails: a comparison with nothing beside it is no comparison.
"""
from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT = "bench/pouchdb-peer"
# Its figures (seconds) that the wire part sets Guanjia's beside.
FIGURES = ("push_10k_s", "bootstrap_28k_s", "incremental_100_at_28k_s")


class PeerError(RuntimeError):
    """The peer benchmark could not be run, or printed no figures."""


def folder() -> Path:
    raw = os.environ.get("BENCH_PEER", "").strip() or DEFAULT
    path = Path(raw)
    return (path if path.is_absolute() else ROOT / path).resolve()


def last_json(output: str) -> dict:
    """The last line of `output` that parses as a JSON object (the peer also prints progress, and an
    indented dump of its medians whose lines are not JSON on their own)."""
    for line in reversed(output.splitlines()):
        line = line.strip()
        if not line.startswith("{"):
            continue
        try:
            value = json.loads(line)
        except ValueError:
            continue
        if isinstance(value, dict):
            return value
    raise PeerError("the peer benchmark printed no JSON line")


def check(figures: dict) -> dict:
    """The figures the comparison needs: present and positive numbers, or a loud failure."""
    missing = [name for name in FIGURES
               if not isinstance(figures.get(name), (int, float)) or isinstance(figures.get(name), bool)
               or figures[name] <= 0]
    if missing:
        raise PeerError(f"the peer benchmark's JSON lacks {', '.join(missing)}: {json.dumps(figures)[:500]}")
    return figures


def _tools() -> tuple[str, str]:
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        raise PeerError("node and npm are needed for the PouchDB peer benchmark (Node 20: apt-get install nodejs npm)")
    return node, npm


def _writable(tree: Path) -> None:
    """The source folder is read-only, and copying keeps its modes: npm and bench.js write here."""
    for path in [tree, *tree.rglob("*")]:
        if not path.is_symlink():
            path.chmod(path.stat().st_mode | stat.S_IWUSR)


def preflight() -> tuple[Path, str, str]:
    """The peer's folder, node and npm, or a PeerError saying which is missing."""
    source = folder()
    if not (source / "bench.js").is_file() or not (source / "package-lock.json").is_file():
        raise PeerError(f"no peer benchmark at {source} (bench.js and package-lock.json; set BENCH_PEER)")
    return (source, *_tools())


def run(*, timeout: float = 900.0, log=print) -> dict:
    """Copy the peer folder, install it, run it; returns its JSON figures plus how it ran."""
    source, node, npm = preflight()
    work = Path(tempfile.mkdtemp(prefix="guanjia-peer-"))
    try:
        copy = work / "peer"
        shutil.copytree(source, copy, ignore=shutil.ignore_patterns("node_modules", "data", "results-*.json"))
        _writable(copy)
        env = {k: v for k, v in os.environ.items() if k not in ("PORT", "RUNS", "N_PUSH", "BIG_VISITS",
                                                                   "SERVER_ADAPTER", "CLIENT_ADAPTER", "BENCH_GZIP")}
        env.update({"SKIP_BIG": "1", "npm_config_fund": "false", "npm_config_audit": "false",
                    "npm_config_update_notifier": "false"})
        started = time.perf_counter()
        installed = subprocess.run([npm, "ci", "--quiet", "--no-audit", "--no-fund"], cwd=copy, env=env,
                                   capture_output=True, text=True, timeout=timeout)
        if installed.returncode != 0:
            raise PeerError(f"npm ci failed in the peer's copy (exit {installed.returncode}): "
                            f"{(installed.stderr or installed.stdout)[-2000:]}")
        install_seconds = time.perf_counter() - started
        log(f"  peer: npm ci in {install_seconds:.0f} s; SKIP_BIG=1 node bench.js ...")
        started = time.perf_counter()
        done = subprocess.run([node, "bench.js"], cwd=copy, env=env, capture_output=True, text=True,
                              timeout=timeout)
        seconds = time.perf_counter() - started
        if done.returncode != 0:
            raise PeerError(f"node bench.js failed (exit {done.returncode}): {(done.stderr or done.stdout)[-2000:]}")
        figures = check(last_json(done.stdout))
        details = {}
        for path in copy.glob("results-*.json"):  # its per-run file: wire bytes and requests by endpoint
            try:
                details = json.loads(path.read_text(encoding="utf-8")).get("summary", {})
            except ValueError:
                pass
        return {**figures, "summary": details, "folder": str(source), "install_seconds": round(install_seconds, 1),
                "run_seconds": round(seconds, 1)}
    finally:
        shutil.rmtree(work, ignore_errors=True)


def ratios(guanjia: dict[str, float], peer: dict) -> dict[str, float]:
    """Guanjia's time ÷ PouchDB's, for push, bootstrap and incremental (lower is better)."""
    return {"vs_pouchdb_push": guanjia["push"] / peer["push_10k_s"],
            "vs_pouchdb_bootstrap": guanjia["bootstrap"] / peer["bootstrap_28k_s"],
            "vs_pouchdb_incremental": guanjia["incremental"] / peer["incremental_100_at_28k_s"]}
