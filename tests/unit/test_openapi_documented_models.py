"""Documented response models reach the OpenAPI document without costing the cold start."""

from fastapi.routing import iter_route_contexts

from app.api.openapi import ResponsesDocumentedLater
from app.main import create_app
from app.settings import Settings


def test_each_documented_response_has_its_model_schema_and_no_field_is_built_before_the_document():
    app = create_app(Settings())
    routes = [
        (context, context.original_route)
        for context in iter_route_contexts(app.routes)
        if isinstance(context.original_route, ResponsesDocumentedLater)
    ]
    assert len(routes) >= 9
    assert all(not route.response_fields for _, route in routes)

    document = app.openapi()
    schemas = document["components"]["schemas"]
    checked = 0
    for context, route in routes:
        for method in context.methods:
            responses = document["paths"][context.path_format][method.lower()]["responses"]
            for status, model in route.documented_models.items():
                body = responses[status]["content"]["application/json"]
                assert body["schema"] == {"$ref": f"#/components/schemas/{model.__name__}"}, (
                    context.path,
                    status,
                )
                assert schemas[model.__name__]["title"] == model.__name__
                checked += 1
    assert checked > 40
    assert "default" not in schemas["ErrorBody"]["properties"]["details"]  # as FastAPI writes schemas
