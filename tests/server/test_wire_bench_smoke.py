"""`make bench`'s wire part works end to end on tiny sizes: a durable throwaway PostgreSQL, real gunicorn
servers started as `make run` starts one, a phone speaking POST /api/v1/sync over a keep-alive
connection, CPU read from /proc. The PouchDB peer is not run here (npm and a minute of node): its
printed output is parsed from a recorded run, and the comparison computed from it. No speed is asserted.

Nothing is skipped: without PostgreSQL's binaries or gunicorn the measurement raises, and the test fails.
"""
from __future__ import annotations

import pytest

from bench import peer, wire
from bench.harness import Sizes

pytestmark = pytest.mark.postgres

TINY = Sizes(push_visits=40, push_batch=20, push_households=5, grid_households=10, grid_people=20, grid_visits=50,
             page=30, bootstrap_reps=1, incremental_small=300, incremental_large=600, incremental_new=10,
             wire_push_reps=2, wire_incremental_reps=2)

# What `SKIP_BIG=1 node bench.js` printed (its progress and its indented medians cut short).
RECORDED = """\
[0.4s] server pid 4242 on http://127.0.0.1:40123 adapter=memory gzip=true; client adapter=memory
[2.6s] push run 1: 2.011s docs=10000 req=83 in=5.9MB out=0.4MB
[19.8s] bootstrap run 3: 4.769s docs=28000 peakRSS=237.2MB peakHeap~143.5MB req=143 out=5.3MB
[20.1s]   incremental@28100: 0.043s added=100 req=8 out=26500B
[27.0s] detail written to results-memory-server-memory-client-nobig.json
[27.0s] medians: {
 "push_10k_s": 1.974,
 "config": {
  "runs": 3
 },
 "total_wall_s": 27.01
}
{"push_10k_s": 1.974, "bootstrap_28k_s": 4.769, "incremental_100_at_28k_s": 0.043, "incremental_100_at_200k_s": null, \
"bootstrap_28k_peak_rss_mb": 237.2, "bootstrap_28k_peak_heap_mb": 143.5, "versions": {"node": "v20.20.2", \
"pouchdb": "9.0.0", "express-pouchdb": "4.2.0", "cpus": 2, "cpu": "AMD EPYC"}}
"""


def test_the_wire_part_measures_sync_over_http_and_sets_it_beside_the_peer(tmp_path):
    g = wire.guanjia(TINY, tmp_path)

    assert g["postgres"]["fsync"] == "on" and g["postgres"]["synchronous_commit"] == "on"
    push, boot, inc = g["push"], g["bootstrap"], g["incremental"]
    assert push["reps"] == 2 and push["requests"] == 2  # 40 visits in batches of 20
    assert push["changes_pulled_back"] == 40  # each answer brings the batch back, as to the PWA
    assert push["bytes_up"] > 0 and push["bytes_down"] > 0
    records = 10 + 20 + 50 + 5  # households, people, visits, the catalogue
    assert boot["records"] == records and boot["pages"] == 3  # pages of 30
    assert boot["bytes_down"] > 0 and boot["bytes_up"] > 0
    assert inc["small"]["runs"] == inc["large"]["runs"] == 2 and inc["growth"] > 0
    for cpu in (push["cpu_us_per_mutation"], boot["cpu_us_per_record"], inc["small"]["cpu_us_per_record"]):
        assert cpu["gunicorn"] is not None and cpu["gunicorn"] >= 0
        assert cpu["postgres"] is not None and cpu["postgres"] >= 0
    assert push["cpu_seconds"]["gunicorn"] > 0  # the workers' CPU is seen, not only the master's

    figures = wire.compare(g, peer.check(peer.last_json(RECORDED)))
    assert figures["vs_pouchdb_push"] == pytest.approx(push["seconds"] / 1.974)
    assert figures["vs_pouchdb_bootstrap"] == pytest.approx(boot["seconds"] / 4.769)
    assert figures["vs_pouchdb_incremental"] == pytest.approx(inc["small"]["seconds"] / 0.043)
    assert figures["first_sync_bytes"] == boot["bytes_down"]
    assert set(figures["met"]) == set(wire.GOALS)
    assert all(isinstance(v, bool) for v in figures["met"].values())


def test_the_peer_figures_are_its_last_json_line():
    figures = peer.check(peer.last_json(RECORDED + "[27.1s] done\n"))
    assert figures["bootstrap_28k_s"] == 4.769 and figures["versions"]["pouchdb"] == "9.0.0"
    with pytest.raises(peer.PeerError):
        peer.last_json("[1.0s] no figures\n 1\n")
    with pytest.raises(peer.PeerError):  # no incremental figure: no comparison
        peer.check({"push_10k_s": 2.0, "bootstrap_28k_s": 4.0, "incremental_100_at_28k_s": None})


def test_the_peer_part_fails_loudly_without_its_folder_or_node(monkeypatch, tmp_path):
    monkeypatch.setenv("BENCH_PEER", str(tmp_path / "nowhere"))
    with pytest.raises(peer.PeerError, match="no peer benchmark"):
        peer.run()
    (tmp_path / "peer").mkdir()
    for name in ("bench.js", "package-lock.json"):
        (tmp_path / "peer" / name).write_text("{}")
    monkeypatch.setenv("BENCH_PEER", str(tmp_path / "peer"))
    monkeypatch.setattr(peer.shutil, "which", lambda name: None)
    with pytest.raises(peer.PeerError, match="node and npm"):
        peer.run()


def test_the_peer_benchmark_is_kept_in_the_repository(monkeypatch):
    monkeypatch.delenv("BENCH_PEER", raising=False)
    source = peer.folder()
    assert source == peer.ROOT / "bench" / "pouchdb-peer"
    for name in ("bench.js", "server.js", "gen.js", "package.json", "package-lock.json", "README.md"):
        assert (source / name).is_file(), name
