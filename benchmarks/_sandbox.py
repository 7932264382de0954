"""Start a sandbox the way a user does, for the mapping benchmarks (not a benchmark itself)."""

from __future__ import annotations

import re
import subprocess
import sys

_LISTENING = re.compile(r"listening on (http://\S+)")


def start_sandbox(service: str) -> tuple[subprocess.Popen[str], str]:
    """`identity-pipeline sandbox SERVICE --port 0` in its own process: (process, base URL).

    The URL comes from the `listening on URL` line, wherever it stands in the startup output.
    The access log (one line per request) is discarded.
    """
    process = subprocess.Popen(
        [sys.executable, "-m", "identity_pipeline.cli", "sandbox", service, "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert process.stdout is not None
    while line := process.stdout.readline():
        if found := _LISTENING.search(line):
            return process, found.group(1)
    process.kill()
    process.wait()
    raise SystemExit(f"the {service} sandbox exited before it listened")
