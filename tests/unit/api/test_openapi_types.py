"""Every success response of the API has a typed schema in the OpenAPI document.

A JSON 2xx response must point at a named component (``$ref``, or an array of them), never the
``{"type": "object", "additionalProperties": true}`` FastAPI writes for a handler returning a bare
``dict``; other media types (HTML pages, a GeoJSON file) must at least state their type. The
document is built without a database (``create_app`` connects lazily).
"""

from __future__ import annotations

from typing import Any

import pytest

from api.app import create_app
from api.settings import Settings

#: Bodies that are not JSON documents of a model (HTML pages, files, CSV, CAP XML) state at least
#: their JSON-schema type: an object for GeoJSON and YAML documents (Schemathesis parses both and
#: checks the mapping), a string for the rest.
MAPPINGS = frozenset({"application/geo+json", "application/yaml"})


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    settings = Settings(database_url="postgresql+psycopg://siaga@127.0.0.1:9/none")
    return create_app(settings).openapi()


def _success_schemas(doc: dict[str, Any]):
    for path, item in doc["paths"].items():
        for method, op in item.items():
            for status, response in op.get("responses", {}).items():
                if status.startswith("2"):
                    for media, content in response.get("content", {}).items():
                        yield f"{method.upper()} {path} {status} {media}", media, content.get(
                            "schema", {})


def _is_typed_json(schema: dict[str, Any]) -> bool:
    if "$ref" in schema:
        return True
    if schema.get("type") == "array":
        return _is_typed_json(schema.get("items", {}))
    return False


def test_every_json_success_response_is_a_named_model(document) -> None:
    untyped = [where for where, media, schema in _success_schemas(document)
               if media == "application/json" and not _is_typed_json(schema)]
    assert not untyped, "2xx JSON responses without a response model:\n" + "\n".join(untyped)


def test_other_media_types_state_their_type(document) -> None:
    found = list(_success_schemas(document))
    others = [(where, media, schema) for where, media, schema in found
              if media != "application/json"]
    assert others, "the HTML pages should be in the document"
    untyped = [f"{where}: {schema}" for where, media, schema in others
               if schema.get("type") != ("object" if media in MAPPINGS else "string")]
    assert not untyped, "non-JSON 2xx bodies without their type:\n" + "\n".join(untyped)


def test_response_components_resolve(document) -> None:
    """Each referenced model exists and names its properties (no empty object component)."""
    components = document["components"]["schemas"]
    for where, media, schema in _success_schemas(document):
        if media != "application/json":
            continue
        ref = schema.get("$ref") or schema.get("items", {}).get("$ref")
        name = ref.rsplit("/", 1)[-1]
        assert name in components, f"{where}: {ref} missing"
        model = components[name]
        assert model.get("properties") or model.get("anyOf") or model.get("oneOf"), (
            f"{where}: {name} has no properties")
