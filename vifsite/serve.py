"""The web server of the site: uvicorn serving the ASGI application (HTTP and websockets).

``python -m vifsite.serve [--host H] [--port P]``: what ``make run`` and the browser tests start.
uvicorn reads a request body only as the application asks for it (flow control), so the size
limits of ``vifsite.limits`` refuse an oversized body without buffering it.
"""

from __future__ import annotations

import argparse
import os

import uvicorn


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--workers", type=int, default=int(os.environ.get("VIFSITE_WEB_WORKERS") or 1),
                        help="web worker processes (VIFSITE_WEB_WORKERS; several need REDIS_URL for the live queue)")
    parser.add_argument("--no-access-log", action="store_true")
    args = parser.parse_args(argv)
    if args.workers < 1:
        parser.error("--workers must be at least 1")
    uvicorn.run("vifsite.asgi:application", host=args.host, port=args.port, http="httptools", ws="websockets-sansio",
                lifespan="off", timeout_graceful_shutdown=2, access_log=not args.no_access_log,
                server_header=False, workers=args.workers)


if __name__ == "__main__":
    main()
