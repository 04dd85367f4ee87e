"""Benchmarks of the sync path ("Speed and memory"): not tests, never run by pytest.

`make bench` (or `.venv/bin/python -m bench`) measures, on SQLite and, when
GUANJIA_TEST_POSTGRES_URL is set, on PostgreSQL:

- push: new visits in batches of 500 through POST /api/v1/sync, against a Core `executemany` floor;
- bootstrap pull: a butler's whole grid paged by 1,000, against one plain SELECT per table + json.dumps,
  with the pull's peak memory on a full and a half-size grid;
- incremental pull: 100 new changes when the tables hold N and 10·N visits.

It prints readable lines and, last, one JSON object. BENCH_QUICK=1 makes a smaller run (< 2 minutes).
`python -m bench.profile push|bootstrap|incremental` profiles one path (cProfile + SQL statement counts).
See docs/benchmarks.md.
"""
