# Copyright (c) 2026 The OVS-vTAP authors.
# Licensed under the Apache License, Version 2.0.
"""The API's OpenAPI document (utilities/vtap_console/openapi.json) says
what the implementation does: the same paths, methods and operation ids,
the same request bodies (fields, types, required ones, nothing else) and
query parameters, and the errors that the server's checks give."""

import json

from aiohttp import web as aioweb

from vtap_console import api
from vtap_console import web

DOC = json.load(open(web.OPENAPI_FILE))
METHODS = ("get", "post", "put", "patch", "delete")
TYPES = {str: "string", dict: "object"}


def operations():
    for path, item in DOC["paths"].items():
        for method in METHODS:
            if method in item:
                yield path, method.upper(), item[method]


def resolve(schema):
    while "$ref" in schema:
        schema = DOC["components"]["schemas"][
            schema["$ref"].split("/")[-1]]
    return schema


def test_the_same_operations():
    documented = set((m, p, op["operationId"])
                     for p, m, op in operations())
    implemented = set((m, p, o) for m, p, o, _ in api.ROUTES)
    assert documented == implemented
    assert DOC["servers"] == [{"url": api.PREFIX}]


def test_the_routes_are_the_apps():
    app = aioweb.Application()
    api.add_routes(app)
    routes = set((r.method, r.resource.canonical, r.name)
                 for r in app.router.routes())
    assert routes == set((m, api.PREFIX + p, o) for m, p, o, _ in api.ROUTES)


def test_request_bodies():
    for path, method, op in operations():
        fields = api.REQUESTS.get(op["operationId"])
        body = op.get("requestBody")
        if fields is None:
            assert body is None, op["operationId"]
            continue
        schema = resolve(body["content"]["application/json"]["schema"])
        assert schema["additionalProperties"] is False
        assert set(schema["properties"]) == set(fields), op["operationId"]
        assert set(schema.get("required", [])) == set(
            k for k, (_, req) in fields.items() if req)
        for key, (jtype, _) in fields.items():
            assert resolve(schema["properties"][key]).get(
                "type", "object") == TYPES[jtype], (op["operationId"], key)


def test_query_parameters():
    for path, method, op in operations():
        params = [resolve(p) for p in op.get("parameters", [])]
        query = set(p["name"] for p in params if p["in"] == "query")
        assert query == set(api.QUERIES.get(op["operationId"], ())), \
            op["operationId"]
        path_params = set(p["name"] for p in
                          DOC["paths"][path].get("parameters", []) + params
                          if p["in"] == "path")
        assert path_params == set(
            part[1:-1] for part in path.split("/") if part.startswith("{"))


def test_errors_documented():
    for path, method, op in operations():
        codes = set(op["responses"])
        public = op["operationId"] in api.PUBLIC
        assert public == (op.get("security") == []), op["operationId"]
        if not public:
            assert "401" in codes, op["operationId"]
        if method != "GET" and not public and \
                op["operationId"] not in api.ANY_ROLE:
            assert {"400", "403", "415"} <= codes, op["operationId"]
        if "{name}" in path:
            assert "404" in codes or method == "GET" and \
                "404" in codes, op["operationId"]


def test_tap_settings_are_the_fleets():
    from vtap_fleet import schema
    settings = DOC["components"]["schemas"]["TapSettings"]["properties"]
    assert tuple(settings) == schema.TAP_SETTINGS


def test_the_reference_page_lists_every_endpoint():
    import os
    from conftest import TOP
    page = open(os.path.join(TOP, "doc", "console-api.rst")).read()
    for method, path, operation, _ in api.ROUTES:
        assert "%s  ``%s``" % (method.ljust(6), path) in page, (method, path)
