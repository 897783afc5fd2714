"""Shared helpers for the contract tests: a real `ml-engine serve` (or any server command) on a
free loopback port in a temporary directory, plain HTTP calls, and clean-up that happens even
when a test fails or is interrupted.

Standard library only, so the scripts run under the project venv's python or Debian's.
"""

import contextlib
import ctypes
import http.client
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback

_PR_SET_PDEATHSIG = 1


def log(msg):
    print(f"[contract] {msg}", flush=True)


class ContractFailure(Exception):
    """A check failed; main() prints the message and exits 1."""


def check(cond, msg):
    if not cond:
        raise ContractFailure(msg)


def _die_with_parent():
    # Runs in the child between fork and exec: if this test is killed (CTest's timeout sends
    # SIGKILL, which no handler sees) the kernel kills the child too, so no server is left.
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except Exception:  # not Linux: the finally blocks still clean up on ordinary failures
        pass


def popen(argv, **kwargs):
    """subprocess.Popen for a child that must not outlive this test."""
    return subprocess.Popen(argv, preexec_fn=_die_with_parent, **kwargs)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def clean_env():
    """The environment without MLE_* variables, so a developer's settings cannot change the
    server under test (every option also reads MLE_<SECTION>_<KEY>)."""
    return {k: v for k, v in os.environ.items() if not k.startswith("MLE_")}


def http_call(port, method, path, headers=None, body=None, timeout=30):
    """One request on a new connection; returns (status, headers dict lower-cased, body bytes)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        data = resp.read()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data
    finally:
        conn.close()


def raw_call(port, data, timeout=10):
    """Sends raw bytes and returns whatever comes back until the server closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(data)
        chunks = []
        try:
            while True:
                c = s.recv(65536)
                if not c:
                    break
                chunks.append(c)
        except (socket.timeout, ConnectionResetError):
            pass
    return b"".join(chunks)


def raw_status(response_bytes):
    line = response_bytes.split(b"\r\n", 1)[0].decode("latin-1")
    parts = line.split(" ")
    return int(parts[1]) if len(parts) >= 2 and parts[1].isdigit() else None


class ServeProcess:
    """A server started on a free loopback port, cwd and logs in `workdir`.

    `make_argv(port)` gives the command line. The server is SIGKILLed on exit unless
    terminate() already stopped it; its logs are printed when the test fails.
    """

    def __init__(self, make_argv, workdir, name="server", ready_path="/health"):
        self.make_argv = make_argv
        self.workdir = workdir
        self.name = name
        self.ready_path = ready_path
        self.proc = None
        self.port = None
        self.out_path = os.path.join(workdir, f"{name}.out")
        self.err_path = os.path.join(workdir, f"{name}.err")
        self.logs_shown = False

    def start(self, timeout=30):
        # A port free now may be taken before the server binds it: try a few.
        for attempt in range(3):
            self.port = free_port()
            argv = self.make_argv(self.port)
            log(f"starting {self.name}: {' '.join(argv)} (cwd {self.workdir})")
            with open(self.out_path, "wb") as out, open(self.err_path, "wb") as err:
                self.proc = popen(argv, cwd=self.workdir, stdout=out, stderr=err,
                                  stdin=subprocess.DEVNULL, env=clean_env())
            if self._wait_ready(timeout):
                log(f"{self.name} ready on 127.0.0.1:{self.port} (pid {self.proc.pid})")
                return self
            if self.proc.poll() is None:
                break  # running but never ready: not a port clash
            log(f"{self.name} exited with {self.proc.returncode} before it was ready "
                f"(attempt {attempt + 1})")
        self.dump_logs()
        raise ContractFailure(f"{self.name} did not become ready on port {self.port} "
                              f"within {timeout} s")

    def _wait_ready(self, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            try:
                status, _, _ = http_call(self.port, "GET", self.ready_path, timeout=2)
                if status == 200:
                    return True
            except OSError:
                pass
            time.sleep(0.05)
        return False

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def terminate(self, timeout=20):
        """SIGTERM and wait; returns the exit code (SIGKILL and a failure after timeout)."""
        check(self.alive(), f"{self.name} died before the end of the test "
                            f"(exit code {self.proc.returncode})")
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise ContractFailure(f"{self.name} did not stop within {timeout} s of SIGTERM")
        log(f"{self.name} stopped on SIGTERM with exit code {rc}")
        return rc

    def kill(self):
        if self.alive():
            self.proc.kill()
            self.proc.wait()

    def read_out(self):
        return _read(self.out_path)

    def read_err(self):
        return _read(self.err_path)

    def dump_logs(self, limit=6000):
        self.logs_shown = True
        for label, path in (("stdout", self.out_path), ("stderr", self.err_path)):
            text = _read(path)
            if len(text) > limit:
                text = "...\n" + text[-limit:]
            print(f"----- {self.name} {label} ({path}) -----\n{text}", flush=True)


def _read(path):
    try:
        with open(path, "rb") as f:
            return f.read().decode("utf-8", "replace")
    except OSError:
        return ""


def _raise_on_signal(signum, frame):
    raise SystemExit(128 + signum)


def main(test_fn, prefix):
    """Runs test_fn(workdir) with a fresh temp dir; prints PASS/FAIL; exits 0 or 1.

    SIGTERM/SIGINT/SIGHUP become SystemExit so that the finally blocks (server kill, temp dir
    removal) run when CTest or a user interrupts the test."""
    for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(s, _raise_on_signal)
    t0 = time.monotonic()
    workdir = tempfile.mkdtemp(prefix=f"mle-contract-{prefix}-")
    rc = 1
    try:
        test_fn(workdir)
        rc = 0
    except ContractFailure as e:
        print(f"[contract] FAIL: {e}", flush=True)
    except Exception:  # an unexpected error (connection refused, ...) is a failure too
        traceback.print_exc()
        print("[contract] FAIL: unexpected error (traceback above)", flush=True)
    except SystemExit as e:
        log(f"interrupted (exit code {e.code}); server stopped, temp dir removed")
        raise
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    verdict = "PASS" if rc == 0 else "FAIL"
    log(f"{verdict} {prefix} in {time.monotonic() - t0:.1f} s")
    sys.exit(rc)


@contextlib.contextmanager
def serving(make_argv, workdir, name="server", ready_path="/health"):
    """Starts a ServeProcess; kills it on the way out (and shows its logs on failure)."""
    srv = ServeProcess(make_argv, workdir, name=name, ready_path=ready_path)
    try:
        srv.start()
        yield srv
    except BaseException:
        if srv.proc is not None and not srv.logs_shown:
            srv.dump_logs()
        raise
    finally:
        srv.kill()
