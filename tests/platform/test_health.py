"""`/healthz` reports the database and the broker."""


def test_healthz_ok_when_database_and_broker_answer(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {
        "status": "ok", "database": "ok", "broker": "ok", "dead_letters": 0
    }
