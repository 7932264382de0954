"""A sandbox as a user runs it: `identity-pipeline sandbox SERVICE ...` in its own process."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_LISTENING = re.compile(r"listening on (http://127\.0\.0\.1:\d+)")


@contextmanager
def sandbox_process(service: str, log: Path, *options: str) -> Iterator[str]:
    """Start the sandbox command on a free port; yield its base URL; stop it with SIGTERM.

    The URL is taken from the `listening on URL` line wherever it appears in the startup output
    (other lines may come before or after it). The access log goes to `log`.
    """
    command = [sys.executable, "-m", "identity_pipeline.cli", "sandbox", service, "--port", "0"]
    with log.open("w") as stderr:
        process = subprocess.Popen(
            [*command, *options], stdout=subprocess.PIPE, stderr=stderr, text=True
        )
    try:
        assert process.stdout is not None
        base_url = None
        while base_url is None:
            line = process.stdout.readline()
            if not line:
                raise RuntimeError(f"the {service} sandbox exited: {log.read_text()[-2000:]}")
            if found := _LISTENING.search(line):
                base_url = found.group(1)
        yield base_url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()


def closed_port_url() -> str:
    """An http URL on 127.0.0.1 where nothing listens (the port was free a moment ago)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"
