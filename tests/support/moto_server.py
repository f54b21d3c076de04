"""moto's server on 127.0.0.1, behind a thin layer for secrun's tests.

The layer records every AWS request (its X-Amz-Target, region, access key id
and start and end times) and can inject faults that the real API cannot be
made to produce on demand: throttling, 5xx, a hang, a delay, a mangled body,
an AccessDenied on one operation. Requests are recorded and faults applied
per access key id, so tests that run in parallel, each with its own key,
share one server without seeing each other's traffic.

Control endpoints (no signing):
  POST /__secrun/seed    {"region", "secrets": [...], "parameters": [...]}
  POST /__secrun/call    {"service", "region", "operation", "params"}: one
                         boto3 call, as an operator makes it (a rotation)
  POST /__secrun/faults  {"akid", "rules": [{"target", "action", "count", ...}]}
  GET  /__secrun/calls?akid=KEY

Prints "PORT <n>" on stdout once listening; exits when its parent does.
"""

import base64
import io
import json
import os
import re
import socket
import struct
import sys
import threading
import time
from urllib.parse import parse_qs

import boto3
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    create_backend_app,
)
from werkzeug.serving import make_server

LOCK = threading.Lock()
CALLS = {}
FAULTS = {}
CREDENTIAL = re.compile(r"Credential=([^/]+)/[^/]+/([^/]+)/([^/]+)/")


def json_response(start_response, status, body, content_type="application/json"):
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    start_response(status, [("Content-Type", content_type), ("Content-Length", str(len(data)))])
    return [data]


def aws_error(start_response, status, code, message):
    body = {"__type": code, "message": message, "Message": message}
    return json_response(start_response, status, body, "application/x-amz-json-1.1")


def asked_ids(body):
    """The secret ids or parameter names a request asks for (no values)."""
    try:
        request = json.loads(body or b"{}")
    except ValueError:
        return []
    ids = request.get("SecretIdList") or request.get("Names") or []
    for key in ("SecretId", "Name"):
        if key in request:
            ids = [request[key]]
    return ids


def take_fault(akid, target, body):
    with LOCK:
        for rule in FAULTS.get(akid, []):
            if rule["target"] not in (target, "*"):
                continue
            if rule.get("body_contains") and rule["body_contains"].encode() not in body:
                continue
            if rule.get("count", -1) == 0:
                continue
            if rule.get("count", -1) > 0:
                rule["count"] -= 1
            return dict(rule)
    return None


class Layer:
    def __init__(self, app, port_holder):
        self.app = app
        self.port_holder = port_holder

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path.startswith("/__secrun/"):
            return self.control(path, environ, start_response)
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        match = CREDENTIAL.search(environ.get("HTTP_AUTHORIZATION", ""))
        akid, region = (match.group(1), match.group(2)) if match else ("", "")
        started = time.time()
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        rule = take_fault(akid, target, body)
        # Recorded when it starts, so a test can see a request that hangs.
        call = {
            "target": target,
            "region": region,
            "ids": asked_ids(body),
            "start": started,
            "end": None,
            "status": "",
            "fault": rule["action"] if rule else None,
        }
        with LOCK:
            CALLS.setdefault(akid, []).append(call)

        def capture(status, headers, exc_info=None):
            call["status"] = status
            return start_response(status, headers, exc_info)

        try:
            if rule is not None:
                result = self.fault(rule, environ, capture)
            else:
                result = list(self.app(environ, capture))
        finally:
            call["end"] = time.time()
        return result

    def fault(self, rule, environ, start_response):
        action = rule["action"]
        if action == "throttle":
            return aws_error(start_response, "400 Bad Request", "ThrottlingException", "Rate exceeded")
        if action == "deny":
            return aws_error(
                start_response,
                "400 Bad Request",
                "AccessDeniedException",
                "User: arn:aws:sts::123456789012:assumed-role/test/t is not authorized to perform: "
                + environ.get("HTTP_X_AMZ_TARGET", ""),
            )
        if action == "error500":
            return aws_error(start_response, "500 Internal Server Error", "InternalFailure", "internal failure")
        if action == "garbage":
            # The real answer with its end broken by a bad escape: the values
            # are in what secrun reads, and the JSON cannot be parsed.
            answer = b"".join(self.app(environ, lambda status, headers, exc_info=None: None))
            return json_response(start_response, "200 OK", answer[:-1] + b'\\q"}', "application/x-amz-json-1.1")
        if action == "hang":
            time.sleep(rule.get("seconds", 60))
            return aws_error(start_response, "503 Service Unavailable", "ServiceUnavailable", "hung")
        if action == "reset":
            # Close the connection with a TCP reset and no answer.
            # shutdown() ends the connection at once; with linger 0 the final
            # close sends a reset. (Closing the descriptor directly would let
            # a new connection reuse its number while werkzeug still writes
            # to it, mixing answers between requests.)
            sock = environ.get("werkzeug.socket")
            if sock is not None:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                sock.shutdown(socket.SHUT_RDWR)
            raise ConnectionResetError("reset by the test layer")
        if action == "delay":
            time.sleep(rule.get("seconds", 0.3))
            return list(self.app(environ, start_response))
        raise ValueError("unknown fault " + action)

    def control(self, path, environ, start_response):
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = json.loads(environ["wsgi.input"].read(length) or b"{}") if length else {}
        if path == "/__secrun/seed":
            return json_response(start_response, "200 OK", self.seed(body))
        if path == "/__secrun/call":
            return json_response(start_response, "200 OK", self.call(body))
        if path == "/__secrun/faults":
            with LOCK:
                FAULTS[body["akid"]] = body["rules"]
            return json_response(start_response, "200 OK", {"ok": True})
        if path == "/__secrun/calls":
            akid = parse_qs(environ.get("QUERY_STRING", "")).get("akid", [""])[0]
            with LOCK:
                calls = list(CALLS.get(akid, []))
            return json_response(start_response, "200 OK", calls)
        return json_response(start_response, "404 Not Found", {"error": path})

    def call(self, body):
        """One boto3 call against moto, as AWS would get it from an
        operator: {"service", "region", "operation", "params"}."""
        url = "http://127.0.0.1:%d" % self.port_holder[0]
        client = boto3.client(
            body["service"],
            endpoint_url=url,
            region_name=body.get("region", "us-east-1"),
            aws_access_key_id="operator",
            aws_secret_access_key="operator",
        )
        out = getattr(client, body["operation"])(**body.get("params", {}))
        out.pop("ResponseMetadata", None)
        return json.loads(json.dumps(out, default=str))

    def seed(self, body):
        url = "http://127.0.0.1:%d" % self.port_holder[0]
        kwargs = dict(
            endpoint_url=url,
            region_name=body.get("region", "us-east-1"),
            aws_access_key_id="seed",
            aws_secret_access_key="seed",
        )
        sm = boto3.client("secretsmanager", **kwargs)
        ssm = boto3.client("ssm", **kwargs)
        arns = {}
        for s in body.get("secrets", []):
            args = {"Name": s["name"]}
            if "binary_b64" in s:
                args["SecretBinary"] = base64.b64decode(s["binary_b64"])
            else:
                args["SecretString"] = s["string"]
            out = sm.create_secret(**args)
            arns[s["name"]] = out["ARN"]
            # Later versions: the first becomes AWSPREVIOUS.
            for later in s.get("updates", []):
                sm.put_secret_value(SecretId=out["ARN"], SecretString=later)
        for p in body.get("parameters", []):
            for i, value in enumerate(p["values"] if "values" in p else [p["value"]]):
                ssm.put_parameter(
                    Name=p["name"],
                    Value=value,
                    Type=p.get("type", "SecureString"),
                    Overwrite=i > 0,
                )
            for label in p.get("labels", []):
                ssm.label_parameter_version(Name=p["name"], ParameterVersion=label[1], Labels=[label[0]])
        return {"arns": arns}


def watch_parent(parent):
    while True:
        if os.getppid() != parent:
            os._exit(0)
        time.sleep(0.5)


def main():
    port_holder = [0]
    app = Layer(DomainDispatcherApplication(create_backend_app), port_holder)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    port_holder[0] = server.server_port
    threading.Thread(target=watch_parent, args=(os.getppid(),), daemon=True).start()
    sys.stdout.write("PORT %d\n" % server.server_port)
    sys.stdout.flush()
    server.serve_forever()


if __name__ == "__main__":
    main()
