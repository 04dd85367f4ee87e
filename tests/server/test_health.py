def test_health_answers_ok(client):
    r = client.get("/api/v1/health")
    assert r.status_code == 200
    assert r.get_json() == {"status": "ok", "db": "ok"}
