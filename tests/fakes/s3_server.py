"""A real S3-protocol server on 127.0.0.1 for the tests: moto's server (``moto[server]``), in its own process.

It serves one request at a time. moto checks PutObject's ``If-Match`` /
``If-None-Match`` and then writes, without a lock between the two; real S3
does both as one step. Served one at a time, moto does too, so a race the
tests provoke (20 starts at once) is decided by the condition, as on S3.

    python -m tests.fakes.s3_server --port 0 --port-file F

writes the chosen port to ``F`` once it listens.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> None:
    """Serve moto's S3 on 127.0.0.1 (single-threaded) until killed."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--port-file", type=Path, required=True)
    args = parser.parse_args(argv)
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
    from werkzeug.serving import make_server

    app = DomainDispatcherApplication(create_backend_app)
    server = make_server("127.0.0.1", args.port, app, threaded=False, request_handler=MotoRequestHandler)
    tmp = args.port_file.with_suffix(".tmp")
    tmp.write_text(str(server.server_address[1]))
    os.replace(tmp, args.port_file)
    sys.stderr.write(f"moto S3 on 127.0.0.1:{server.server_address[1]}\n")
    server.serve_forever()


if __name__ == "__main__":
    main()
