#!/usr/bin/env python3
"""Contract test `openapi_schemathesis_selftest`: proves that openapi_schemathesis_test.py can
fail. It runs that test against fake_api_server.py four times:
  --fake-bug none    a server that keeps its contract: the test must pass, which also proves
                     POST /ml/train and /ml/train-all were left out (the fake answers them 500);
  --fake-bug 5xx     POST /ml/predict answers 500 on an empty input: the test must fail with
                     schemathesis' "Server error" on POST /ml/predict;
  --fake-bug schema  GET /ml/models breaks its response schema: the test must fail with
                     "Response violates schema" on GET /ml/models;
  --fake-bug noauth  GET /ml/jobs answers without the API key the document requires: the test
                     must fail with "API accepts requests without authentication".
So a schemathesis upgrade, a renamed check or a broken exclusion cannot turn the contract test
into one that always passes.

Usage: openapi_schemathesis_selftest.py --venv DIR
"""

import argparse
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from contract_common import check, log, main, popen  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
CASES = [  # (bug, expected exit code, texts the output must contain)
    ("none", 0, ["PASS openapi_schemathesis"]),
    ("5xx", 1, ["Server error", "POST /ml/predict", "FAIL openapi_schemathesis"]),
    ("schema", 1, ["Response violates schema", "GET /ml/models", "FAIL openapi_schemathesis"]),
    ("noauth", 1, ["API accepts requests without authentication", "GET /ml/jobs",
                   "FAIL openapi_schemathesis"]),
]


def run(args, workdir):
    script = os.path.join(HERE, "openapi_schemathesis_test.py")
    for bug, want_rc, texts in CASES:
        argv = [sys.executable, script, "--venv", args.venv, "--fake-bug", bug,
                "--max-examples", "5", "--seed", "1", "--timeout", "100"]
        log(f"--fake-bug {bug}: expecting exit code {want_rc}")
        proc = popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                     stdin=subprocess.DEVNULL)
        try:
            out, _ = proc.communicate(timeout=120)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        out = out.decode("utf-8", "replace")
        missing = [t for t in texts if t not in out]
        if proc.returncode != want_rc or missing:
            print(f"----- openapi_schemathesis_test.py --fake-bug {bug} -----\n{out}", flush=True)
        check(proc.returncode == want_rc,
              f"--fake-bug {bug}: exit code {proc.returncode}, expected {want_rc}")
        check(not missing, f"--fake-bug {bug}: the output lacks {missing}")
        log(f"--fake-bug {bug}: exit code {proc.returncode} as expected")


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--venv", required=True, help="the project venv with schemathesis")
    p.add_argument("--engine", help="unused (the fake stands in for ml-engine)")
    args = p.parse_args()
    main(lambda workdir: run(args, workdir), "openapi_schemathesis_selftest")
