"""``/api/v1/health`` answers a database that does not answer with the 503 body its OpenAPI
document describes (not the generic error body of the other routes)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from api.app import create_app
from api.schemas_analytics import HealthUnavailableOut
from api.settings import Settings

#: Nothing listens on port 9 of the loopback: the probe is refused at once.
NOWHERE = "postgresql+psycopg://siaga@127.0.0.1:9/none"


def test_health_503_matches_its_documented_schema(tmp_path) -> None:
    app = create_app(Settings(database_url=NOWHERE, roads_dir=tmp_path))
    doc = app.openapi()["paths"]["/api/v1/health"]["get"]["responses"]["503"]
    ref = doc["content"]["application/json"]["schema"]["$ref"]
    assert ref.endswith("/HealthUnavailableOut")
    client = TestClient(app)  # no lifespan: the probe is built with the services
    response = client.get("/api/v1/health")
    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"
    body = HealthUnavailableOut.model_validate(response.json())
    assert body.status == "unavailable" and body.database != "ok"
    assert set(response.json()) <= set(HealthUnavailableOut.model_fields)
