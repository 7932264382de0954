"""`identity-pipeline ui`: the Dagster webserver and daemon on the project's shared instance.

`dagster dev` and its successor `dg dev` are development wrappers that start these two
services. We start them ourselves from their own entry points (`dagster-webserver`,
`dagster-daemon run`, the ones a deployment runs) because `dagster dev` uses a temporary
instance unless DAGSTER_HOME is set and prints a SupersessionWarning a user cannot act on, and
`dg dev` needs the dagster-dg-cli package and a `[tool.dg]` project layout. Here both services
always get the shared instance folder (see dagster_instance.py), so the UI shows the demo's
runs and what it launches outlives it.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType

from identity_pipeline.dagster_instance import use_project_instance

CODE_LOCATION = ["-m", "identity_pipeline.definitions", "-a", "defs"]
"""The code location both services load: the package's Definitions, run from the current
folder (so the relative default paths `data/...` mean the same as for the demo)."""


def _script(name: str) -> str:
    """A console script of this environment (next to its python), else from PATH."""
    beside = Path(sys.executable).parent / name
    if beside.exists():
        return str(beside)
    found = shutil.which(name)
    if found is None:
        raise FileNotFoundError(f"{name} is not installed in this environment")
    return found


def commands(host: str, port: int) -> list[list[str]]:
    """The webserver's and the daemon's command lines."""
    webserver = [_script("dagster-webserver"), "-h", host, "-p", str(port), *CODE_LOCATION]
    daemon = [_script("dagster-daemon"), "run", *CODE_LOCATION]
    return [webserver, daemon]


def _stop(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
    deadline = time.monotonic() + 30
    for process in processes:
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def serve(host: str, port: int) -> int:
    """Run both services until Ctrl-C or SIGTERM, or until one of them exits."""
    # Ctrl-C and SIGTERM stop us, then we stop both services. A shell that starts us in the
    # background leaves SIGINT ignored, and ignored signals are inherited: restore it first so
    # the services (which map SIGTERM to their SIGINT handler) can be stopped either way.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    previous = signal.signal(signal.SIGTERM, _terminate)
    home = use_project_instance()
    print(f"Dagster instance: {home}", flush=True)
    print(f"Dagster UI: http://{host}:{port} (Ctrl-C stops the webserver and the daemon)")
    sys.stdout.flush()
    started: dict[str, subprocess.Popen[bytes]] = {}
    try:
        for command in commands(host, port):
            started[Path(command[0]).name] = subprocess.Popen(command, env=os.environ.copy())
        while all(process.poll() is None for process in started.values()):
            time.sleep(0.5)
        for name, process in started.items():
            if process.returncode is not None:
                print(f"{name} exited with code {process.returncode}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        signal.signal(signal.SIGTERM, previous)
        _stop(list(started.values()))
