#!/usr/bin/env python3
"""A fast stand-in for Secrets Manager and SSM on 127.0.0.1, for the fleet
benchmark only (moto is far too slow to stand in for thousands of calls a
second). It answers like AWS (awsJson1.1; the shapes secrun reads) and
enforces AWS's per-account request quotas, divided by --scale, each as a
token bucket holding one second of burst:

    BatchGetSecretValue   100/s     GetSecretValue   10,000/s
    GetParameters          40/s     DescribeSecret   40,000/s
    DescribeParameters     (SSM's shared default, 40/s)

A request over its quota gets AWS's answer: HTTP 400 ThrottlingException.
Every secret or parameter asked for exists; its value is derived from its
name (a name ending in `bundle` holds a JSON object of twenty settings).
Signatures are not checked.

    GET /__stats    calls and throttled answers by action, as JSON

usage: fake-aws.py [--scale N]      prints "PORT <n>" once listening
"""

import argparse
import asyncio
import json
import time

QUOTAS = {
    "secretsmanager.BatchGetSecretValue": 100,
    "secretsmanager.GetSecretValue": 10000,
    "secretsmanager.DescribeSecret": 40000,
    "AmazonSSM.GetParameters": 40,
    "AmazonSSM.DescribeParameters": 40,
}
ACCOUNT = "123456789012"


class Bucket:
    """One second of burst, refilled continuously at `rate` a second."""

    def __init__(self, rate):
        self.rate = rate
        self.tokens = rate
        self.at = time.monotonic()

    def take(self):
        now = time.monotonic()
        self.tokens = min(self.rate, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


class Fake:
    def __init__(self, scale):
        self.buckets = {k: Bucket(v / scale) for k, v in QUOTAS.items()}
        self.stats = {}

    def count(self, action, key):
        entry = self.stats.setdefault(action, {"ok": 0, "throttled": 0})
        entry[key] += 1

    def secret(self, region, asked):
        name = asked.split(":secret:", 1)[1] if asked.startswith("arn:") else asked
        # A full ARN keeps its suffix; a name gets one, as AWS adds it.
        base = name
        if len(name) > 7 and name[-7] == "-":
            base = name[:-7]
        arn = "arn:aws:secretsmanager:%s:%s:secret:%s-AbCdEf" % (region, ACCOUNT, base)
        value = "value-of-" + base
        if base.endswith("bundle"):
            # A bundle: twenty settings in one JSON object.
            value = json.dumps({"SETTING_%02d" % i: "value-%02d" % i for i in range(20)})
        return {
            "ARN": arn,
            "Name": base,
            "SecretString": value,
            "VersionId": "00000000-0000-0000-0000-000000000001",
            "VersionStages": ["AWSCURRENT"],
            "CreatedDate": 1.7e9,
        }

    def answer(self, target, region, body):
        if target == "secretsmanager.GetSecretValue":
            return self.secret(region, body["SecretId"])
        if target == "secretsmanager.BatchGetSecretValue":
            return {
                "SecretValues": [self.secret(region, i) for i in body.get("SecretIdList", [])],
                "Errors": [],
            }
        if target == "secretsmanager.DescribeSecret":
            s = self.secret(region, body["SecretId"])
            return {
                "ARN": s["ARN"],
                "Name": s["Name"],
                "VersionIdsToStages": {s["VersionId"]: ["AWSCURRENT"]},
            }
        if target == "AmazonSSM.GetParameters":
            params = []
            for n in body.get("Names", []):
                name = n.split(":parameter", 1)[1] if n.startswith("arn:") else n
                params.append(
                    {
                        "Name": name,
                        "Value": "value-of-" + name,
                        "Type": "SecureString",
                        "Version": 1,
                        "ARN": "arn:aws:ssm:%s:%s:parameter/%s" % (region, ACCOUNT, name.lstrip("/")),
                    }
                )
            return {"Parameters": params, "InvalidParameters": []}
        if target == "AmazonSSM.DescribeParameters":
            return {"Parameters": []}
        return None

    async def serve(self, reader, writer):
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, path = lines[0].split(" ")[:2]
                headers = {}
                for line in lines[1:]:
                    if ":" in line:
                        k, v = line.split(":", 1)
                        headers[k.strip().lower()] = v.strip()
                length = int(headers.get("content-length", "0"))
                body = await reader.readexactly(length) if length else b""
                status, payload = self.handle(method, path, headers, body)
                data = json.dumps(payload).encode()
                writer.write(
                    b"HTTP/1.1 %s\r\nContent-Type: application/x-amz-json-1.1\r\n"
                    b"Content-Length: %d\r\n\r\n" % (status.encode(), len(data))
                    + data
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            pass
        finally:
            writer.close()

    def handle(self, method, path, headers, body):
        if path.startswith("/__stats"):
            return "200 OK", self.stats
        target = headers.get("x-amz-target", "")
        bucket = self.buckets.get(target)
        if bucket is None:
            return "400 Bad Request", {"__type": "UnknownOperationException", "message": target}
        if not bucket.take():
            self.count(target, "throttled")
            return "400 Bad Request", {"__type": "ThrottlingException", "message": "Rate exceeded"}
        self.count(target, "ok")
        auth = headers.get("authorization", "")
        region = "us-east-2"
        if "Credential=" in auth:
            parts = auth.split("Credential=", 1)[1].split("/")
            if len(parts) > 2:
                region = parts[2]
        return "200 OK", self.answer(target, region, json.loads(body or b"{}"))


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=float, default=10)
    args = parser.parse_args()
    fake = Fake(args.scale)
    server = await asyncio.start_server(fake.serve, "127.0.0.1", 0, backlog=4096)
    print("PORT %d" % server.sockets[0].getsockname()[1], flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
