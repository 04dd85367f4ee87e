"""The API reference: GET /api/v1/openapi.json (OpenAPI 3.1, built once per app) and a rendered
page at GET /api/v1/docs.

The page is Swagger UI, from the flask-swagger-ui package's copy of its distribution (the app
serves every file itself: it works offline and under a Content-Security-Policy that allows
scripts only from this server, server/headers.py). Its start-up script is a file of ours
(static/docs.js), not an inline script.
"""
from __future__ import annotations

from pathlib import Path

import flask_swagger_ui
from flask import Blueprint, Response, current_app, jsonify

from server.errors import NotFound
from server.http import public

bp = Blueprint("openapi", __name__)
_EXTENSION_KEY = "guanjia.openapi"
HERE = Path(__file__).resolve().parent
SWAGGER_UI = Path(flask_swagger_ui.__file__).resolve().parent / "dist"
# Every file the page may ask for, and where it is: nothing else can be named.
ASSETS = {
    "swagger-ui.css": SWAGGER_UI / "swagger-ui.css",
    "swagger-ui-bundle.js": SWAGGER_UI / "swagger-ui-bundle.js",
    "swagger-ui-LICENSE.txt": SWAGGER_UI / "LICENSE",
    "favicon-32x32.png": SWAGGER_UI / "favicon-32x32.png",
    "docs.js": HERE / "static" / "docs.js",
    "docs.css": HERE / "static" / "docs.css",
}
MIMETYPES = {".css": "text/css", ".js": "text/javascript", ".png": "image/png", ".txt": "text/plain"}

PAGE = """<!DOCTYPE html>
<html lang="zh-CN">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>睿管家 API 参考 · Guanjia API reference</title>
  <link rel="stylesheet" href="docs/swagger-ui.css">
  <link rel="stylesheet" href="docs/docs.css">
  <link rel="icon" type="image/png" href="docs/favicon-32x32.png">
</head>
<body>
  <noscript>此页需要 JavaScript；原始文档见 <a href="openapi.json">openapi.json</a>。
    This page needs JavaScript; the document itself is <a href="openapi.json">openapi.json</a>.</noscript>
  <div id="swagger-ui" data-spec="openapi.json"></div>
  <script src="docs/swagger-ui-bundle.js"></script>
  <script src="docs/docs.js"></script>
</body>
</html>
"""


def document(app) -> dict:
    """The app's OpenAPI document, built on first use and kept on the app."""
    found = app.extensions.get(_EXTENSION_KEY)
    if found is None:
        from server.openapi.spec import build

        found = app.extensions[_EXTENSION_KEY] = build(app)
    return found


@bp.get("/openapi.json")
@public
def openapi_json():
    """The OpenAPI 3.1 document of /api/v1."""
    return jsonify(document(current_app._get_current_object()))


@bp.get("/docs")
@public
def docs():
    """The reference, rendered by Swagger UI."""
    return Response(PAGE, mimetype="text/html")


@bp.get("/docs/<name>")
@public
def docs_asset(name: str):
    """A file of the rendered reference."""
    path = ASSETS.get(name)
    if path is None:
        raise NotFound()
    response = Response(path.read_bytes(), mimetype=MIMETYPES[path.suffix or ".txt"])
    response.headers["Cache-Control"] = "no-cache"
    return response
