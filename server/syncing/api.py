"""POST /api/v1/sync: a thin view over the sync engine (see docs/sync-protocol.md)."""
from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta

from flask import Blueprint, Flask, current_app, g, request

from server import i18n, jsonio
from server.errors import caller_language
from server.extensions import compress, db
from server.syncing.store import SqlStore
from sync.engine import Engine, EngineConfig
from sync.protocol import Limits

bp = Blueprint("sync", __name__)
ENGINE = "guanjia.sync_engine"


def init_app(app: Flask) -> None:
    """Build the app's engine once: limits from configuration, a cursor key derived from the secret."""
    cursor_key = hmac.new(app.config["SECRET_KEY"].encode(), b"guanjia sync cursor", hashlib.sha256).digest()
    limits = Limits(max_mutations=app.config["SYNC_MAX_MUTATIONS"], max_bytes=app.config["SYNC_MAX_BYTES"],
                    max_limit=app.config["SYNC_MAX_LIMIT"])
    app.extensions[ENGINE] = Engine(EngineConfig(cursor_key=cursor_key, limits=limits), _message)
    compress.init_app(app)  # configured to compress only the views that ask for it (below)


def _message(code: str, field: str | None, params: dict, language: str) -> str:
    return i18n.field_error_message(code, field or "", language, **params)


@bp.post("/sync")
@compress.compressed()
def sync():
    """Apply the phone's mutations, then answer with the changes since its cursor."""
    store = SqlStore(db.session, grace=timedelta(days=current_app.config["SYNC_GRACE_DAYS"]),
                     device_id=g.device.id, check_kept_wire=current_app.config["SYNC_CHECK_KEPT_WIRE"])
    answer = current_app.extensions[ENGINE].sync(store, g.user, request.get_data(cache=False),
                                                 language=caller_language())
    db.session.commit()  # the pull's audit events: nothing of the household file is sent unrecorded
    return current_app.response_class(jsonio.body(answer), mimetype="application/json")
