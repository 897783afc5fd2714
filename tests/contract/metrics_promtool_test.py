#!/usr/bin/env python3
"""Contract test `metrics_promtool`: GET /metrics of the real `ml-engine serve` is valid
Prometheus text that `promtool check metrics` accepts without a lint problem, and it counts
what the server did.

The server runs on a free loopback port with two API keys and a tight rate limit (burst 5, 1
request per minute per key). The test sends a known mix: 200s, HEAD, 401 (no key, wrong key),
404, 405, malformed requests (400) and, with the second key, requests past the burst (429);
then scrapes /metrics with the first key and checks:
  - promtool check metrics: exit 0 and no output (errors and lint problems both fail), and
    no series given twice nor family split in two (promtool 2.42 lets both through);
  - the families and their types: mle_http_requests_total (counter; labels method, route,
    status), mle_http_request_duration_seconds (histogram; method, route), mle_http_requests_
    in_flight (gauge), mle_http_rate_limited_total (counter);
  - the counts of the mix, histogram buckets that are cumulative and end in +Inf == _count,
    histogram counts equal to the request counters, and no raw URL path as a route label;
and finally that SIGTERM stops the server with exit code 0 and the keys never reach its logs.

Usage: metrics_promtool_test.py --engine PATH/ml-engine [--venv DIR] [--promtool PATH]
"""

import argparse
import math
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from contract_common import (ContractFailure, check, http_call, log, main, raw_call,  # noqa: E402
                             raw_status, serving)

SCRAPE_KEY = "contract-scrape-key-0123456789"
FLOOD_KEY = "contract-flood-key-9876543210"
BURST = 5
FLOOD_REQUESTS = BURST + 4

FAMILIES = {
    "mle_http_requests_total": ("counter", {"method", "route", "status"}),
    "mle_http_request_duration_seconds": ("histogram", {"method", "route"}),
    "mle_http_requests_in_flight": ("gauge", set()),
    "mle_http_rate_limited_total": ("counter", set()),
}

_SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$')
_LABEL = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*(?:,|$)')


def parse_exposition(text):
    """Prometheus text format -> (types {family: kind}, samples [(name, labels, value)]).

    Also fails on what promtool 2.42 lets through: a series given twice, and a family whose
    lines are not all together."""
    types, samples = {}, []
    seen_series, done_families, current = set(), set(), None
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        if line.startswith("#"):
            parts = line.split(None, 3)
            if len(parts) >= 4 and parts[1] == "TYPE":
                types[parts[2]] = parts[3].strip()
            continue
        m = _SAMPLE.match(line)
        check(m, f"line {n} is not a sample: {line!r}")
        name, label_text, value = m.group(1), m.group(2) or "", m.group(3)
        labels, pos = {}, 0
        while pos < len(label_text):
            lm = _LABEL.match(label_text, pos)
            check(lm, f"line {n}: cannot parse labels {label_text!r}")
            labels[lm.group(1)] = lm.group(2)
            pos = lm.end()
        samples.append((name, labels, float(value)))
        series = (name, tuple(sorted(labels.items())))
        check(series not in seen_series, f"line {n}: series given twice: {line!r}")
        seen_series.add(series)
        family = family_of(name, types)
        if family != current:
            check(family not in done_families, f"line {n}: family {family} split in two")
            if current:
                done_families.add(current)
            current = family
    return types, samples


def family_of(name, types):
    if name in types:
        return name
    for suffix in ("_bucket", "_sum", "_count"):
        base = name[: -len(suffix)] if name.endswith(suffix) else None
        if base and types.get(base) == "histogram":
            return base
    return name


def promtool_check(promtool, text):
    r = subprocess.run([promtool, "check", "metrics"], input=text.encode(),
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
    out = r.stdout.decode("utf-8", "replace").strip()
    check(r.returncode == 0 and not out,
          f"promtool check metrics: exit code {r.returncode}, problems:\n{out}")
    log("promtool check metrics: no errors, no lint problems")


def send_mix(port):
    """Sends the known request mix; returns the number of 429s the flood key got."""
    bearer = {"Authorization": f"Bearer {SCRAPE_KEY}"}

    def expect(status, method, path, headers=None, body=None):
        got, hdrs, data = http_call(port, method, path, headers, body)
        check(got == status, f"{method} {path}: expected {status}, got {got}: {data[:300]!r}")
        return hdrs

    for _ in range(5):
        expect(200, "GET", "/health")
    expect(200, "HEAD", "/health")
    expect(200, "GET", "/openapi.json")
    expect(401, "GET", "/metrics")
    expect(401, "GET", "/metrics", {"Authorization": "Bearer not-the-right-key-123"})
    expect(200, "GET", "/metrics", {"X-Api-Key": SCRAPE_KEY})
    expect(404, "GET", "/no/such/route", bearer)
    hdrs = expect(405, "DELETE", "/health", bearer)
    check("GET" in hdrs.get("allow", ""), f"405 without an Allow header naming GET: {hdrs}")
    expect(405, "POST", "/metrics", bearer, b"{}")
    for raw in (b"GARBAGE\r\n\r\n",
                b"POST /health HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n"):
        status = raw_status(raw_call(port, raw))
        check(status == 400, f"malformed request {raw!r}: expected 400, got {status}")
    statuses = [http_call(port, "GET", "/metrics", {"Authorization": f"Bearer {FLOOD_KEY}"})[0]
                for _ in range(FLOOD_REQUESTS)]
    check(set(statuses) <= {200, 429} and statuses[:BURST] == [200] * BURST,
          f"rate limit (burst {BURST}): unexpected statuses {statuses}")
    limited = statuses.count(429)
    check(limited >= 1, f"no request was rate limited: {statuses}")
    log(f"sent the mix: 200s, HEAD, 401 x2, 404, 405 x2, 400 x2, {limited} x 429")
    return limited


def check_metrics(text, limited):
    types, samples = parse_exposition(text)
    for fam, (kind, labels) in FAMILIES.items():
        check(types.get(fam) == kind, f"{fam}: expected # TYPE {kind}, got {types.get(fam)}")
        fam_samples = [(n, l) for n, l, _ in samples if family_of(n, types) == fam]
        check(fam_samples, f"{fam}: no samples")
        for n, l in fam_samples:
            want = labels | ({"le"} if n.endswith("_bucket") else set())
            check(set(l) == want, f"{n}{l}: labels {sorted(l)}, expected {sorted(want)}")

    requests = {}
    for n, l, v in samples:
        if n == "mle_http_requests_total":
            requests[(l["method"], l["route"], l["status"])] = v
            check(v >= 0 and v == math.floor(v), f"{n}{l}: bad counter value {v}")

    def count(method=None, route=None, status=None):
        return sum(v for (m, r, s), v in requests.items()
                   if (method is None or m == method) and (route is None or r == route)
                   and (status is None or s == status))

    expected = [  # (method, route or None for "any", status, at least)
        ("GET", "/health", "200", 5), ("HEAD", "/health", "200", 1),
        ("GET", "/openapi.json", "200", 1), ("GET", "/metrics", "401", 2),
        ("GET", "/metrics", "200", 1 + BURST), ("GET", None, "404", 1),
        ("DELETE", None, "405", 1), ("POST", None, "405", 1), (None, None, "400", 2),
    ]
    for method, route, status, least in expected:
        got = count(method, route, status)
        check(got >= least, f"mle_http_requests_total{{method={method or '*'},route="
                            f"{route or '*'},status={status}}} = {got}, expected >= {least}\n"
                            f"series: {requests}")
    check(count("GET", "/metrics", "429") == limited,
          f"requests_total for the {limited} rate-limited requests: "
          f"{count('GET', '/metrics', '429')}")
    # An unmatched URL must not become a label value (unbounded cardinality).
    routes = {r for (_, r, _) in requests}
    check("/no/such/route" not in routes, f"a raw unmatched path became a route label: {routes}")

    rate_limited = [v for n, _, v in samples if n == "mle_http_rate_limited_total"]
    check(rate_limited == [limited],
          f"mle_http_rate_limited_total = {rate_limited}, expected [{limited}]")
    in_flight = [v for n, _, v in samples if n == "mle_http_requests_in_flight"]
    check(len(in_flight) == 1 and 0 <= in_flight[0] <= 1,
          f"mle_http_requests_in_flight = {in_flight}: only the scrape itself is in flight")

    # Histogram: per series, buckets cumulative with growing bounds, +Inf == _count, and
    # _count == the requests counted for that method and route.
    hist = {}
    for n, l, v in samples:
        if not n.startswith("mle_http_request_duration_seconds"):
            continue
        key = (l["method"], l["route"])
        h = hist.setdefault(key, {"buckets": [], "sum": None, "count": None})
        if n.endswith("_bucket"):
            le = math.inf if l["le"] == "+Inf" else float(l["le"])
            h["buckets"].append((le, v))
        elif n.endswith("_sum"):
            h["sum"] = v
        elif n.endswith("_count"):
            h["count"] = v
    check(("GET", "/health") in hist, f"no latency histogram for GET /health: {list(hist)}")
    for key, h in hist.items():
        b = h["buckets"]
        check(b and b[-1][0] == math.inf, f"histogram {key}: no le=\"+Inf\" bucket last")
        check(all(b[i][0] < b[i + 1][0] and b[i][1] <= b[i + 1][1] for i in range(len(b) - 1)),
              f"histogram {key}: buckets not cumulative in increasing le: {b}")
        check(h["count"] == b[-1][1], f"histogram {key}: _count {h['count']} != +Inf {b[-1][1]}")
        check(h["sum"] is not None and h["sum"] >= 0, f"histogram {key}: bad _sum {h['sum']}")
        check(h["count"] == count(key[0], key[1]),
              f"histogram {key}: _count {h['count']} != requests_total {count(*key)}")
    log(f"metrics: {len(samples)} samples, {len(requests)} request series, "
        f"{len(hist)} latency histograms, all consistent")


def run(args, workdir):
    promtool = args.promtool or shutil.which("promtool")
    check(promtool and os.access(promtool, os.X_OK),
          "promtool not found: install Debian's 'prometheus' package (scripts/setup.sh does)")
    engine = os.path.abspath(args.engine)
    check(os.access(engine, os.X_OK), f"no ml-engine binary at {engine}")

    def argv(port):
        return [engine, "serve", "--port", str(port), "--host", "127.0.0.1",
                "--api-key", SCRAPE_KEY, "--api-key", FLOOD_KEY,
                "--rate-limit-rpm", "1", "--rate-limit-burst", str(BURST)]

    with serving(argv, workdir, name="ml-engine") as srv:
        limited = send_mix(srv.port)
        status, hdrs, body = http_call(srv.port, "GET", "/metrics",
                                       {"Authorization": f"Bearer {SCRAPE_KEY}"})
        check(status == 200, f"GET /metrics with the key: {status} {body[:300]!r}")
        ctype = hdrs.get("content-type", "")
        check(ctype.startswith("text/plain") and "version=0.0.4" in ctype,
              f"GET /metrics Content-Type {ctype!r}, expected text/plain; version=0.0.4")
        text = body.decode("utf-8")
        try:
            promtool_check(promtool, text)
            check_metrics(text, limited)
        except ContractFailure:
            print(f"----- GET /metrics -----\n{text}", flush=True)
            raise
        rc = srv.terminate()
        check(rc == 0, f"ml-engine serve exited with {rc} on SIGTERM, expected 0")
        logs = srv.read_out() + srv.read_err()
        check(SCRAPE_KEY not in logs and FLOOD_KEY not in logs, "an API key reached the logs")


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--engine", required=True, help="the ml-engine binary")
    p.add_argument("--venv", help="project venv (unused: promtool is a Debian package)")
    p.add_argument("--promtool", help="promtool binary (default: from PATH)")
    args = p.parse_args()
    main(lambda workdir: run(args, workdir), "metrics_promtool")
