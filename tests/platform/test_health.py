"""`/healthz` reports the database and the broker, and whether the broker keeps its data."""

from __future__ import annotations

from tests.helpers import REAL, PrivateRedis, real_servers, test_config
from xeno import create_app
from xeno.extensions import db


def test_healthz_ok_when_database_and_broker_answer(client, broker):
    response = client.get("/healthz")
    assert response.status_code == 200
    if REAL:  # the shared Redis: durable exactly when it has AOF or RDB snapshots on
        settings = {**broker.config_get("appendonly"), **broker.config_get("save")}
        durable = settings["appendonly"] == "yes" or bool(settings["save"].strip())
    else:
        durable = False  # in-process fakeredis keeps nothing
    assert response.json == {
        "status": "ok", "database": "ok", "broker": {"status": "ok", "durable": durable},
        "dead_letters": 0,
    }


@real_servers
def test_healthz_says_durable_only_for_a_redis_that_persists(app, tmp_path):
    for appendonly in (True, False):
        folder = tmp_path / str(appendonly)
        folder.mkdir()
        server = PrivateRedis(folder, appendonly=appendonly).start()
        private = create_app(
            test_config(app.config["SQLALCHEMY_DATABASE_URI"], REDIS_URL=server.url)
        )
        try:
            answer = private.test_client().get("/healthz").json
            assert answer["broker"] == {"status": "ok", "durable": appendonly}
            server.kill()
            down = private.test_client().get("/healthz")
            assert down.status_code == 503
            assert down.json["status"] == "unavailable" and down.json["database"] == "ok"
            assert down.json["broker"]["status"].startswith("down")
            assert down.json["broker"]["durable"] is False
        finally:
            server.kill()
            with private.app_context():
                db.engine.dispose()


def test_compose_runs_redis_with_append_only_file():
    import yaml

    from tests.helpers import ROOT

    command = yaml.safe_load((ROOT / "compose.yaml").read_text())["services"]["redis"]["command"]
    assert command[command.index("--appendonly") + 1] == "yes"
