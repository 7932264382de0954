"""`identity-pipeline serve`: run the service under uvicorn until SIGTERM or Ctrl-C."""

from __future__ import annotations

import socket
import sys

from identity_pipeline.service.config import ConfigError, from_env


def serve(host: str = "127.0.0.1", port: int = 8080) -> int:
    import uvicorn
    import uvloop

    from identity_pipeline.service.app import IdentityService, build_app

    try:
        config = from_env()
    except ConfigError as exc:
        print(f"identity-pipeline serve: {exc}", file=sys.stderr)
        return 2
    service = IdentityService(config)
    # The log's writer thread needs the GIL right after each sync to release the answers
    # waiting on it; with the default 5 ms switch interval a busy event loop holds it back.
    sys.setswitchinterval(0.0005)
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    bound_port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(
            build_app(service),
            lifespan="on",
            log_level="warning",
            access_log=False,
            proxy_headers=False,
            server_header=False,
            http="httptools",
            loop="none",
            timeout_graceful_shutdown=10,
        )
    )

    async def run() -> None:
        import asyncio
        import contextlib
        import signal

        # Our own handlers: uvicorn's re-raise the signal after shutdown, so the process
        # would end "killed by SIGTERM" instead of exiting 0 after its clean stop.
        server.capture_signals = contextlib.nullcontext  # type: ignore[method-assign,assignment]
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, lambda: setattr(server, "should_exit", True))
        task = asyncio.create_task(server.serve(sockets=[sock]))
        while not server.started and not task.done():
            await asyncio.sleep(0.01)
        if server.started:
            shown = f"[{host}]" if ":" in host else host
            print(f"listening on http://{shown}:{bound_port}", flush=True)
        await task

    uvloop.run(run())
    return 0 if server.started else 1
