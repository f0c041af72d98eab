"""A real HTTP receiver for webhook tests: a server on 127.0.0.1 in a thread that records every
POST (headers and body) and answers as the test tells it (status per call, delay, or down)."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Receiver:
    def __init__(self):
        self.received: list[dict] = []
        self.attempts: dict[str, int] = {}
        self.lock = threading.Lock()
        #: decides each answer: fn(event_dict, attempt_number_for_this_event) -> (status, delay seconds)
        self.answer = lambda event, attempt: (200, 0)
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"
            # Headers and body are two writes: without this, Nagle's algorithm and the client's
            # delayed ACK add 40 ms to every answer (a receiver artefact, not the console's cost).
            disable_nagle_algorithm = True

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                event = json.loads(body)
                with receiver.lock:
                    attempt = receiver.attempts[event["id"]] = receiver.attempts.get(event["id"], 0) + 1
                    receiver.received.append({"event": event, "body": body, "headers": dict(self.headers),
                                              "at": time.monotonic()})
                status, delay = receiver.answer(event, attempt)
                if delay:
                    time.sleep(delay)
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"ok")
                except OSError:
                    pass  # the client gave up (a timeout test)

            def log_message(self, *args):
                pass

        class Server(ThreadingHTTPServer):
            request_queue_size = 128  # socketserver's default of 5 drops concurrent connects (1 s SYN retries)

        self.server = Server(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def ids(self, status_ok_only: bool = False) -> list[str]:
        with self.lock:
            return [r["event"]["id"] for r in self.received]


def free_port_url() -> str:
    """An address where nothing listens (a receiver that is down)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/hook"
