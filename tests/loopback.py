"""A loopback HTTP server that answers like a recorded source, for live-mode tests.

It serves a recording (crawler/replay.py layout) over real HTTP on 127.0.0.1: a request for
``http://127.0.0.1:PORT/<path>?<query>`` is answered with the response recorded for
``<origin>/<path>?<query>``; absolute links to the origin inside bodies are rewritten to point
back at the server, so paging links stay on loopback. Bodies are sent gzip-compressed when the
client accepts it, as real servers do. Unknown URLs get 404.
"""

from __future__ import annotations

import gzip
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from crawler.replay import read_response


@contextmanager
def serve_recording(directory: Path, origin: str) -> Iterator[str]:
    """Serve ``directory`` as if it were ``origin`` (e.g. https://host); yields the base URL."""
    origin = origin.rstrip("/")
    requests: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            requests.append(self.path)
            found = read_response(directory, origin + self.path)
            if found is None:
                self.send_error(404, "not in the recording")
                return
            meta, body = found
            body = body.replace(origin.encode(), base.encode())
            gzipped = "gzip" in (self.headers.get("Accept-Encoding") or "")
            if gzipped:
                body = gzip.compress(body)
            self.send_response(int(meta["status"]))
            for name, values in (meta.get("headers") or {}).items():
                if name.lower() in ("content-length", "content-encoding", "transfer-encoding"):
                    continue
                for value in values:
                    self.send_header(name, value)
            if gzipped:
                self.send_header("Content-Encoding", "gzip")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    base = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield base
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
