#!/usr/bin/env python3
"""A tiny stand-in for `ml-engine serve`, used only by openapi_schemathesis_selftest.py to
prove that the schemathesis contract test fails when a server breaks its contract.

It serves an OpenAPI 3.1 document shaped like ml-engine's (bearer/X-Api-Key security, 4XX/5XX
answered with the Error schema) for /health, /openapi.json, /ml/models, /ml/jobs,
/ml/jobs/{id}, /ml/predict, /ml/train and /ml/train-all, and behaves correctly unless --bug
says otherwise:
  none    every answer matches the document;
  5xx     POST /ml/predict answers 500 when "input" is an empty list (an unhandled edge case);
  schema  GET /ml/models answers {"models": "cnn_mnist"}: a string where the document promises
          an array;
  noauth  GET /ml/jobs answers without an API key although the document requires one.
POST /ml/train and /ml/train-all always answer 500, so a contract run that does not exclude
them fails: that is how the self-test checks the exclusion.

Usage: fake_api_server.py --port N --api-key KEY [--bug none|5xx|schema|noauth]
"""

import argparse
import json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ERROR = {"$ref": "#/components/schemas/Error"}
OBJ = "object"


def error_schema():
    return {"type": OBJ, "required": ["error"], "properties": {"error": {
        "type": OBJ, "required": ["code", "message", "type"],
        "properties": {"code": {"type": "integer"}, "message": {"type": "string"},
                       "type": {"type": "string"}}}}}


ROUTES = {
    ("GET", "/health"): {"public": True, "returns": {
        "type": OBJ, "required": ["service", "status"],
        "properties": {"service": {"type": "string"}, "status": {"type": "string"}}}},
    ("GET", "/openapi.json"): {"public": True, "returns": {"type": OBJ}},
    ("GET", "/ml/models"): {"returns": {
        "type": OBJ, "required": ["models"], "properties": {"models": {
            "type": "array", "items": {"type": OBJ, "required": ["name"],
                                       "properties": {"name": {"type": "string"}}}}}}},
    ("GET", "/ml/jobs"): {"returns": {
        "type": OBJ, "required": ["jobs"],
        "properties": {"jobs": {"type": "array", "items": {"type": OBJ}}}}},
    ("GET", "/ml/jobs/{id}"): {"returns": {
        "type": OBJ, "required": ["id", "state"],
        "properties": {"id": {"type": "string"}, "state": {"type": "string"}}}},
    ("POST", "/ml/predict"): {
        "request": {"type": OBJ, "required": ["model", "input"], "additionalProperties": False,
                    "properties": {"model": {"type": "string"},
                                   "input": {"type": "array", "maxItems": 8,
                                             "items": {"type": "number"}}}},
        "returns": {"type": OBJ, "required": ["class"],
                    "properties": {"class": {"type": "integer"}}}},
    ("POST", "/ml/train"): {
        "request": {"type": OBJ, "properties": {"model": {"type": "string"}}},
        "returns": {"type": OBJ}, "status": 202},
    ("POST", "/ml/train-all"): {"request": {"type": OBJ}, "returns": {"type": OBJ},
                                "status": 202},
}


def openapi(with_keys):
    paths = {}
    for (method, pattern), r in ROUTES.items():
        op = {"summary": f"{method} {pattern}", "operationId": method + pattern}
        if "{id}" in pattern:
            op["parameters"] = [{"name": "id", "in": "path", "required": True,
                                 "schema": {"type": "string"}}]
        if "request" in r:
            op["requestBody"] = {"required": True, "content": {
                "application/json": {"schema": r["request"]}}}
        err = {"description": "error", "content": {"application/json": {"schema": ERROR}}}
        op["responses"] = {str(r.get("status", 200)): {"description": "success", "content": {
            "application/json": {"schema": r["returns"]}}}, "4XX": err, "5XX": err}
        if r.get("public"):
            op["security"] = []
        paths.setdefault(pattern, {})[method.lower()] = op
    doc = {"openapi": "3.1.0", "info": {"title": "fake ml-engine", "version": "1"},
           "paths": paths,
           "components": {"schemas": {"Error": error_schema()}, "securitySchemes": {
               "bearer": {"type": "http", "scheme": "bearer"},
               "apiKey": {"type": "apiKey", "in": "header", "name": "X-Api-Key"}}}}
    if with_keys:
        doc["security"] = [{"bearer": []}, {"apiKey": []}]
    return doc


def match(path):
    """(pattern, params) for a concrete path, or (None, {})."""
    segs = path.split("/")
    for (_, pattern) in ROUTES:
        psegs = pattern.split("/")
        if len(psegs) != len(segs):
            continue
        params = {}
        for p, s in zip(psegs, segs):
            if p.startswith("{"):
                if not s:
                    break
                params[p[1:-1]] = s
            elif p != s:
                break
        else:
            return pattern, params
    return None, {}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake-ml-engine"

    def log_message(self, fmt, *args):  # quiet; the test prints what matters
        pass

    def send_json(self, status, obj, headers=None):
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def send_error_json(self, status, message, headers=None):
        kind = "server_error" if status >= 500 else "invalid_request_error"
        self.send_json(status, {"error": {"code": status, "message": message, "type": kind}},
                       headers)

    def handle_any(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length > 0 else b""
        path = self.path.split("?", 1)[0]
        pattern, params = match(path)
        if pattern is None:
            return self.send_error_json(404, f"no route for {self.command} {path}")
        method = "GET" if self.command == "HEAD" else self.command
        route = ROUTES.get((method, pattern))
        if route is None:
            allow = ", ".join(m for (m, p) in ROUTES if p == pattern)
            return self.send_error_json(405, f"method {self.command} not allowed",
                                        {"Allow": allow})
        if not route.get("public") and not (self.server.bug == "noauth" and
                                            pattern == "/ml/jobs"):
            auth = self.headers.get("Authorization", "")
            key = auth[7:] if auth.lower().startswith("bearer ") else \
                self.headers.get("X-Api-Key", "")
            if key != self.server.api_key:
                return self.send_error_json(401, "missing or invalid API key")
        body = None
        if "request" in route:
            try:
                body = json.loads(raw.decode("utf-8"))
            except (UnicodeDecodeError, ValueError):
                return self.send_error_json(400, "the body is not JSON")
        bug = self.server.bug
        if pattern == "/health":
            return self.send_json(200, {"service": "fake", "status": "ok"})
        if pattern == "/openapi.json":
            return self.send_json(200, openapi(True))
        if pattern == "/ml/models":
            models = "cnn_mnist" if bug == "schema" else [{"name": "cnn_mnist"}]
            return self.send_json(200, {"models": models})
        if pattern == "/ml/jobs":
            return self.send_json(200, {"jobs": []})
        if pattern == "/ml/jobs/{id}":
            if params["id"] == "job-1":
                return self.send_json(200, {"id": "job-1", "state": "done"})
            return self.send_error_json(404, "no such job")
        if pattern == "/ml/predict":
            if not isinstance(body, dict) or set(body) - {"model", "input"} or \
                    not isinstance(body.get("model"), str) or \
                    not isinstance(body.get("input"), list) or len(body["input"]) > 8 or \
                    not all(isinstance(x, (int, float)) and not isinstance(x, bool)
                            for x in body["input"]):
                return self.send_error_json(400, "invalid predict request")
            if not body["input"]:
                if bug == "5xx":
                    return self.send_error_json(500, "internal error: empty input")
                return self.send_error_json(400, "input is empty")
            return self.send_json(200, {"class": 3})
        # /ml/train, /ml/train-all: must never be called by the contract run.
        return self.send_error_json(500, f"{pattern} was called: it must be excluded")

    def __getattr__(self, name):
        # Every method (QUERY, BREW, ...) reaches handle_any, as with ml-engine's router.
        if name.startswith("do_"):
            return self.handle_any
        raise AttributeError(name)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--api-key", required=True)
    p.add_argument("--bug", choices=["none", "5xx", "schema", "noauth"], default="none")
    args = p.parse_args()
    srv = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    srv.daemon_threads = True
    srv.api_key = args.api_key
    srv.bug = args.bug
    print(f"fake ml-engine on http://127.0.0.1:{args.port} (bug: {args.bug})", flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
