"""gunicorn.conf.py, as `make run` and the load test read it."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from server import ROOT

GUNICORN = Path(sys.executable).with_name("gunicorn")


def test_gunicorn_accepts_the_configuration():
    checked = subprocess.run([str(GUNICORN), "--check-config", "-c", "gunicorn.conf.py", "server:create_app()"],
                             cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert checked.returncode == 0, checked.stderr


def test_a_worker_freezes_the_loaded_app_out_of_garbage_collection():
    code = ("import gc, runpy; conf = runpy.run_path('gunicorn.conf.py'); import server; "
            "assert gc.get_freeze_count() == 0; conf['post_worker_init'](None); "
            "print(gc.get_threshold(), gc.get_freeze_count() > 1000)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "(10000, 20, 20) True"
