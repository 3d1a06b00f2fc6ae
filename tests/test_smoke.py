"""The app starts on both databases and answers its health checks."""

from flask.testing import FlaskClient


def test_livez_and_readyz(client: FlaskClient) -> None:
    assert client.get("/livez").get_json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.get_json()["checks"]["migrations"]["at_head"] is True
