"""``python -m api [--host H] [--port P]``: serve the REST API and the web UI with uvicorn."""
from __future__ import annotations

import argparse
import logging

import uvicorn

from engine.config import get_settings


def main(argv: list[str] | None = None) -> int:
    """Parse flags and run the server until interrupted."""
    config = get_settings()
    parser = argparse.ArgumentParser(prog="python -m api", description="storybeat web UI and REST API")
    parser.add_argument("--host", default=config.host, help=f"bind address (default {config.host})")
    parser.add_argument("--port", type=int, default=config.port, help=f"port (default {config.port})")
    parser.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(levelname)s %(name)s: %(message)s")
    if args.host not in ("127.0.0.1", "localhost", "::1") and not config.token:
        logging.getLogger("api").warning("binding %s without STORYBEAT_TOKEN: anyone on the network can use the API", args.host)
    from api.main import create_app

    uvicorn.run(
        create_app(config), host=args.host, port=args.port, log_level=args.log_level, timeout_graceful_shutdown=2,
        timeout_keep_alive=config.keep_alive_s,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
