"""Serves the progressive web app from pwa/ (static files, no build step), and its service worker.

The service worker is told, as it is served, which files make up the app and a version that is a
hash of their contents (see `Shell`), so that neither its precache list nor its cache name can go
stale by hand. Both are computed once per app: deploying new files means starting a new process.
The folder is the PWA_DIR setting when given (tests point it at a copy), else pwa/ of the checkout.

JavaScript and CSS are served minified (rjsmin, rcssmin: small, long-maintained minifiers that keep
strings, template literals and regular expressions intact), so the source stays commented and
readable while a phone on a weak signal downloads and stores only the code (a third less). Text
files are also gzipped once, when the shell is read, and sent so to any browser that accepts it
(Vary: Accept-Encoding): a first install downloads about a third of the minified bytes.
"""
from __future__ import annotations

import gzip
import hashlib
import json
import mimetypes
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import rcssmin
import rjsmin
from flask import Blueprint, Flask, Response, current_app, request
from werkzeug.exceptions import NotFound

from server import ROOT

PWA_DIR = ROOT / "pwa"
SERVICE_WORKER = "sw.js"
# The line of sw.js that the server replaces with the real version and file list.
BUILD_PLACEHOLDER = 'const BUILD = { version: "dev", shell: [] };'
VERSION_LENGTH = 12  # hex digits of SHA-256: plenty to tell versions apart, short in a cache name
# Named here rather than left to the mimetypes module, whose answers depend on the machine.
MIMETYPES = {".webmanifest": "application/manifest+json", ".js": "text/javascript", ".css": "text/css",
             ".html": "text/html", ".png": "image/png", ".json": "application/json"}
_EXTENSION_KEY = "guanjia.pwa"

bp = Blueprint("pwa", __name__)


MINIFIERS = {".js": rjsmin.jsmin, ".css": rcssmin.cssmin}
COMPRESSIBLE = frozenset({".js", ".css", ".html", ".json", ".webmanifest", ".svg"})


@dataclass(frozen=True)
class Shell:
    """One version of the app: the URL paths to precache, the service worker's text, and every
    file's content as served (scripts and style sheets minified), by path relative to the folder.

    Held in memory (the whole app is a few hundred kilobytes): no file is opened per request, so a
    phone that drops a download half-way leaves no open file behind."""

    version: str
    paths: tuple[str, ...]
    service_worker: str
    files: dict[str, bytes]
    # The text files gzipped once (a phone on a weak signal downloads a third of the bytes).
    gzipped: dict[str, bytes] = field(default_factory=dict)


def served(content: bytes, relative: str) -> bytes:
    """What is served for a file: scripts and style sheets minified, anything else as it is."""
    minify = MINIFIERS.get(Path(relative).suffix)
    return minify(content.decode("utf-8")).encode("utf-8") if minify else content


def read_shell(folder: Path) -> Shell:
    """Every file under folder except dotfiles and sw.js itself (index.html as "/"), hashed together."""
    folder = Path(folder)
    template = (folder / SERVICE_WORKER).read_text(encoding="utf-8")
    if template.count(BUILD_PLACEHOLDER) != 1:
        raise RuntimeError(f"{folder / SERVICE_WORKER} must hold the line {BUILD_PLACEHOLDER!r} exactly once")
    digest = hashlib.sha256()
    # The worker's own code counts too: a changed worker must not reuse the last version's cache.
    _hash_file(digest, SERVICE_WORKER, rjsmin.jsmin(template).encode("utf-8"))
    paths, files = [], {}
    for relative in _app_files(folder):
        files[relative] = served((folder / relative).read_bytes(), relative)
        _hash_file(digest, relative, files[relative])
        paths.append("/" if relative == "index.html" else "/" + quote(relative))
    version = digest.hexdigest()[:VERSION_LENGTH]
    build = json.dumps({"version": version, "shell": paths})
    worker = rjsmin.jsmin(template.replace(BUILD_PLACEHOLDER, f"const BUILD = {build};"))
    gzipped = {relative: gzip.compress(content, compresslevel=9, mtime=0) for relative, content in files.items()
               if Path(relative).suffix in COMPRESSIBLE}
    gzipped[SERVICE_WORKER] = gzip.compress(worker.encode("utf-8"), compresslevel=9, mtime=0)
    return Shell(version=version, paths=tuple(paths), service_worker=worker, files=files, gzipped=gzipped)


def _app_files(folder: Path) -> list[str]:
    """Paths relative to folder, sorted: every file but sw.js and hidden ones (.DS_Store, .git)."""
    found = []
    for file in folder.rglob("*"):
        parts = file.relative_to(folder).parts
        if file.is_file() and not any(part.startswith(".") for part in parts):
            found.append("/".join(parts))
    return sorted(name for name in found if name != SERVICE_WORKER)


def _hash_file(digest, name: str, content: bytes) -> None:
    # Name and length first, so that moving bytes between files or renaming one changes the hash.
    digest.update(f"{name}\0{len(content)}\0".encode("utf-8"))
    digest.update(content)


def shell_for(app: Flask) -> Shell:
    """This app's shell, read from its PWA_DIR on first use and kept on the app."""
    shell = app.extensions.get(_EXTENSION_KEY)
    if shell is None:
        # Two first requests at once both read the same files: no harm, no lock needed.
        shell = app.extensions[_EXTENSION_KEY] = read_shell(_folder(app))
    return shell


def _folder(app: Flask) -> Path:
    return Path(app.config.get("PWA_DIR") or PWA_DIR)


def _send(filename: str):
    """A file of the app from memory; never cached by HTTP (the service worker's versioned cache
    keeps the app). Only the files read into the shell exist: nothing outside pwa/ can be named."""
    shell = shell_for(current_app)
    content = shell.service_worker.encode("utf-8") if filename == SERVICE_WORKER else shell.files.get(filename)
    if content is None:
        raise NotFound()
    suffix = Path(filename).suffix
    mimetype = MIMETYPES.get(suffix) or mimetypes.guess_type(filename)[0] or "application/octet-stream"
    headers = {"Cache-Control": "no-cache"}
    if filename in shell.gzipped:
        headers["Vary"] = "Accept-Encoding"
        if request.accept_encodings.quality("gzip") > 0:
            content = shell.gzipped[filename]
            headers["Content-Encoding"] = "gzip"
    return Response(content, mimetype=mimetype, headers=headers)


@bp.get("/")
def index():
    """The app shell."""
    return _send("index.html")


@bp.get("/sw.js")
def service_worker():
    """The service worker, with this version's number and file list written in."""
    # no-cache: every update check reaches the server, whatever a proxy or the browser would keep.
    return _send(SERVICE_WORKER)


@bp.get("/<path:filename>")
def static_file(filename: str):
    """The app's other files (scripts and style sheets minified)."""
    return _send(filename)
