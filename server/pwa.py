"""Serves the progressive web app from pwa/ (static files, no build step)."""
from __future__ import annotations

from flask import Blueprint, send_from_directory

from server import ROOT

PWA_DIR = ROOT / "pwa"

bp = Blueprint("pwa", __name__)


@bp.get("/")
def index():
    """The app shell."""
    return send_from_directory(PWA_DIR, "index.html", max_age=0)


@bp.get("/<path:filename>")
def static_file(filename: str):
    """The app's other files (send_from_directory refuses paths outside pwa/)."""
    return send_from_directory(PWA_DIR, filename, max_age=0)
