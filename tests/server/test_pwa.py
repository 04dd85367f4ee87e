"""Serving the PWA: the manifest and its icons, and a service worker whose file list and version are never stale."""
from __future__ import annotations

import json
import shutil
import struct
import zlib

import pytest

from server import create_app
from server.extensions import db
from server.pwa import PWA_DIR, read_shell, shell_for
from tests.support.app import base_config

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MASKABLE_SAFE_RADIUS = 0.4  # of the width, around the centre (the W3C manifest spec's safe zone)


@pytest.fixture
def pwa_dir(tmp_path):
    """A copy of pwa/ that a test may change."""
    return shutil.copytree(PWA_DIR, tmp_path / "pwa")


@pytest.fixture
def make_app(tmp_path, pwa_dir):
    """Apps serving pwa_dir; serving files needs no database, so it is never migrated."""
    apps = []

    def make():
        config = base_config(tmp_path, f"sqlite:///{tmp_path / 'unused.sqlite3'}")
        apps.append(create_app({**config, "PWA_DIR": str(pwa_dir)}))
        return apps[-1]

    yield make
    for app in apps:
        with app.app_context():
            db.engine.dispose()


@pytest.fixture
def client(make_app):
    return make_app().test_client()


def get_bytes(client, path: str) -> bytes:
    with client.get(path) as response:
        assert response.status_code == 200, path
        return response.get_data()


def manifest(client) -> dict:
    return json.loads(get_bytes(client, "/manifest.webmanifest"))


def png_chunks(data: bytes):
    assert data[:8] == PNG_SIGNATURE
    offset = 8
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset:offset + 4])
        kind = data[offset + 4:offset + 8]
        body = data[offset + 8:offset + 8 + length]
        (crc,) = struct.unpack(">I", data[offset + 8 + length:offset + 12 + length])
        assert crc == zlib.crc32(kind + body), kind
        yield kind, body
        offset += 12 + length


def png_size(data: bytes) -> tuple[int, int]:
    kind, body = next(png_chunks(data))
    assert kind == b"IHDR"
    return struct.unpack(">II", body[:8])


def png_rgba(data: bytes) -> list[list[tuple[int, ...]]]:
    """Pixels of an 8-bit RGBA PNG with no row filters, as scripts/make_icons.py writes them."""
    chunks = list(png_chunks(data))
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", chunks[0][1])
    assert (depth, colour, interlace) == (8, 6, 0), "decode other PNGs with an image library"
    raw = zlib.decompress(b"".join(body for kind, body in chunks if kind == b"IDAT"))
    stride = 1 + width * 4
    rows = [raw[y * stride:(y + 1) * stride] for y in range(height)]
    assert {row[0] for row in rows} == {0}, "row filters: decode with an image library"
    return [[tuple(row[1 + x * 4:5 + x * 4]) for x in range(width)] for row in rows]


# ---- the manifest and its icons ------------------------------------------------------------------

def test_manifest_is_served_as_a_web_app_manifest(client):
    with client.get("/manifest.webmanifest") as response:
        assert response.mimetype == "application/manifest+json"


def test_manifest_has_what_installation_needs(client):
    found = manifest(client)
    assert found["name"] == "睿管家 Guanjia"
    assert found["short_name"] == "睿管家"
    assert (found["id"], found["scope"], found["start_url"]) == ("/", "/", "/")
    assert found["display"] == "standalone"
    assert found["lang"] == "zh-CN"
    assert found["theme_color"] == "#0b6e4f"
    assert found["background_color"]
    assert {(icon["sizes"], icon["purpose"]) for icon in found["icons"]} == {
        ("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")}


def test_manifest_icons_are_pngs_of_their_stated_sizes(client):
    for icon in manifest(client)["icons"]:
        width, height = png_size(get_bytes(client, icon["src"]))
        assert f"{width}x{height}" == icon["sizes"], icon["src"]
        assert icon["type"] == "image/png"


def test_maskable_icon_keeps_the_house_inside_the_safe_zone(client):
    (icon,) = [icon for icon in manifest(client)["icons"] if icon["purpose"] == "maskable"]
    pixels = png_rgba(get_bytes(client, icon["src"]))
    size = len(pixels)
    centre, radius = size / 2, MASKABLE_SAFE_RADIUS * size
    background = pixels[0][0]
    assert background[3] == 255  # a maskable icon fills its square: the mask decides the shape
    outside = {pixels[y][x] for y in range(size) for x in range(size)
               if (x + 0.5 - centre) ** 2 + (y + 0.5 - centre) ** 2 > radius ** 2}
    assert outside == {background}


def test_index_links_the_manifest_and_the_apple_touch_icon(client):
    page = get_bytes(client, "/").decode("utf-8")
    assert '<link rel="manifest" href="/manifest.webmanifest">' in page
    assert '<link rel="apple-touch-icon" href="/icons/apple-touch-icon.png">' in page
    assert png_size(get_bytes(client, "/icons/apple-touch-icon.png")) == (180, 180)


# ---- the service worker ------------------------------------------------------------------------

def test_service_worker_is_javascript_that_is_never_cached(client):
    with client.get("/sw.js") as response:
        assert response.mimetype == "text/javascript"
        assert response.headers["Cache-Control"] == "no-cache"


def test_service_worker_is_told_its_version_and_shell(make_app):
    app = make_app()
    with app.test_client().get("/sw.js") as response:
        script = response.get_data(as_text=True)
    shell = shell_for(app)
    assert f'"version":"{shell.version}"' in script
    assert all(f'"{path}"' in script for path in shell.paths)
    assert 'version: "dev"' not in script


def test_shell_is_every_file_of_the_app_with_index_as_root(pwa_dir):
    (pwa_dir / "js").mkdir(exist_ok=True)
    (pwa_dir / "js" / "new-module.js").write_text("export {};\n", encoding="utf-8")
    on_disk = {path.relative_to(pwa_dir).as_posix() for path in pwa_dir.rglob("*") if path.is_file()}
    expected = {"/" if name == "index.html" else "/" + name for name in on_disk - {"sw.js"}}
    assert set(read_shell(pwa_dir).paths) == expected
    assert "/js/new-module.js" in expected


def test_shell_leaves_out_hidden_files(pwa_dir):
    (pwa_dir / ".DS_Store").write_bytes(b"\0")
    assert "/.DS_Store" not in read_shell(pwa_dir).paths


def test_every_shell_path_is_served(make_app):
    app = make_app()
    client = app.test_client()
    for path in shell_for(app).paths:
        get_bytes(client, path)


def test_changing_any_file_makes_a_new_version(pwa_dir):
    before = read_shell(pwa_dir).version
    style = pwa_dir / "style.css"
    style.write_bytes(style.read_bytes() + b"\nbody { margin: 1px; }\n")
    assert read_shell(pwa_dir).version != before


def test_changing_the_service_worker_makes_a_new_version(pwa_dir):
    before = read_shell(pwa_dir).version
    worker = pwa_dir / "sw.js"
    worker.write_text(worker.read_text(encoding="utf-8") + "self.changed = true;\n", encoding="utf-8")
    assert read_shell(pwa_dir).version != before


def test_an_app_keeps_the_version_it_started_with(make_app, pwa_dir):
    app = make_app()
    before = shell_for(app).version
    (pwa_dir / "style.css").write_text("/* changed */", encoding="utf-8")
    assert shell_for(app).version == before
    assert shell_for(make_app()).version != before


def test_service_worker_without_its_placeholder_is_refused(pwa_dir):
    worker = pwa_dir / "sw.js"
    worker.write_text(worker.read_text(encoding="utf-8").replace('version: "dev"', 'version: "x"'),
                      encoding="utf-8")
    with pytest.raises(RuntimeError, match="must hold the line"):
        read_shell(pwa_dir)


def test_scripts_and_styles_are_served_minified_with_their_strings_intact(make_app, pwa_dir):
    (pwa_dir / "js" / "probe.js").write_text(
        "// a comment the phone need not download\n"
        "export const url = `http://x/${1 + 1} // kept`;  /* gone */\n"
        "export const re = /\\/\\//g;\n", encoding="utf-8")
    client = make_app().test_client()
    with client.get("/js/probe.js") as response:
        assert response.mimetype == "text/javascript"
        assert response.get_data(as_text=True) == "export const url=`http://x/${1 + 1} // kept`;export const re=/\\/\\//g;"
    with client.get("/style.css") as response:
        css = response.get_data(as_text=True)
    assert response.mimetype == "text/css" and "/*" not in css and len(css) < (pwa_dir / "style.css").stat().st_size


def test_a_change_to_comments_alone_keeps_the_version(make_app, pwa_dir):
    before = read_shell(pwa_dir).version
    app_js = pwa_dir / "js" / "app.js"
    app_js.write_text("// one more comment\n" + app_js.read_text(encoding="utf-8"), encoding="utf-8")
    assert read_shell(pwa_dir).version == before


@pytest.mark.parametrize("path", ["/nope.js", "/../server/config.py", "/%2e%2e/pyproject.toml", "/js/../../README.md"])
def test_only_the_app_s_own_files_are_served(make_app, path):
    with make_app().test_client().get(path) as response:
        assert response.status_code == 404


def test_icons_are_served_as_png(make_app, pwa_dir):
    with make_app().test_client().get("/icons/icon-192.png") as response:
        assert response.mimetype == "image/png"
        assert response.data == (pwa_dir / "icons" / "icon-192.png").read_bytes()


@pytest.mark.parametrize("path", ["/", "/sw.js", "/js/app.js", "/style.css"])
def test_text_files_are_sent_gzipped_to_browsers_that_accept_it(client, path):
    import gzip

    plain = client.get(path)
    packed = client.get(path, headers={"Accept-Encoding": "gzip, deflate, br"})
    assert "Content-Encoding" not in plain.headers
    assert packed.headers["Content-Encoding"] == "gzip"
    assert packed.headers["Vary"] == "Accept-Encoding" == plain.headers["Vary"]
    assert gzip.decompress(packed.data) == plain.data
    assert len(packed.data) < len(plain.data)


def test_images_are_not_gzipped(client):
    r = client.get("/icons/icon-192.png", headers={"Accept-Encoding": "gzip"})
    assert r.status_code == 200 and "Content-Encoding" not in r.headers


def test_the_app_names_the_ticket_categories_of_the_server_s_one_list():
    from server.tickets import categories

    on_disk = (PWA_DIR / categories.PWA_MODULE).read_text(encoding="utf-8")
    assert on_disk == categories.pwa_module(), (
        f"pwa/{categories.PWA_MODULE} differs from server/tickets/categories.py: "
        "run `flask --app server pwa-categories`")
    assert f"export const CATEGORIES = {json.dumps(list(categories.CODES))};" in on_disk


def test_the_ticket_categories_are_precached_with_the_shell(pwa_dir):
    from server.tickets import categories

    assert "/" + categories.PWA_MODULE in read_shell(pwa_dir).paths
