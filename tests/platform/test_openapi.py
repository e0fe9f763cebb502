"""`/api/v1/openapi.json` describes the API from the models the views validate with."""

from __future__ import annotations

from xeno.ingest.schemas import CustomerIn, OrderIn
from xeno.platform.openapi import undocumented


def test_openapi_is_public_and_3_1(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.json["openapi"] == "3.1.0"


def test_ingestion_is_described_with_the_validation_models(client):
    spec = client.get("/api/v1/openapi.json").json
    post = spec["paths"]["/api/v1/customers"]["post"]
    body = post["requestBody"]["content"]["application/json"]["schema"]
    assert {"$ref": "#/components/schemas/CustomerIn"} in body["anyOf"]
    schemas = spec["components"]["schemas"]
    assert set(schemas["CustomerIn"]["properties"]) == set(CustomerIn.model_fields)
    assert set(schemas["OrderIn"]["properties"]) == set(OrderIn.model_fields)
    assert schemas["CustomerIn"]["additionalProperties"] is False
    assert set(post["responses"]) == {"202", "400", "401", "413", "415", "422", "503"}
    assert post["security"] == [{"bearerToken": []}]
    batch = spec["paths"]["/api/v1/batches/{batch_id}"]["get"]
    assert batch["parameters"][0] == {
        "name": "batch_id",
        "in": "path",
        "required": True,
        "schema": {"type": "string"},
    }


def test_every_api_operation_is_described(app):
    assert undocumented(app) == []


def test_every_error_status_has_the_error_schema(client):
    spec = client.get("/api/v1/openapi.json").json
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                if int(status) >= 400:
                    schema = response["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/Error"}, (method, path)
