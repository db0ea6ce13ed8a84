#!/usr/bin/env python3
"""Fault traffic for bench/cds_load.sh --faults (issue 13): while wrk measures
valid calls, this sends, in parallel,
  - calls whose fallback fetch stalls: patient-view requests without prefetch
    naming a fhirServer that accepts connections and never answers (a
    listening socket here that never accepts);
  - malformed requests: a smuggling attempt (Transfer-Encoding: gzip with a
    request as body), a malformed chunked body, invalid JSON, a duplicated
    Authorization header.
Runs until SIGTERM, then prints the counts of each answer.

  fault_traffic.py PORT SILENT_PORT DISCOVERY_JSON [STALLED_CLIENTS] [MALFORMED_CLIENTS] [MALFORMED_PER_SECOND]

MALFORMED_PER_SECOND paces each malformed client (default 100; 0: as fast as
it can, which on 2 shared cores mostly measures the CPU the client takes).
"""
import collections
import json
import signal
import socket
import sys
import threading
import time

port, silent_port = int(sys.argv[1]), int(sys.argv[2])
discovery = json.load(open(sys.argv[3]))
stalled_clients = int(sys.argv[4]) if len(sys.argv) > 4 else 4
malformed_clients = int(sys.argv[5]) if len(sys.argv) > 5 else 2
malformed_rate = float(sys.argv[6]) if len(sys.argv) > 6 else 100
path = "/cds-services/regenpath-patient-view"
stop = threading.Event()
counts = collections.Counter()
lock = threading.Lock()

silent = socket.socket()
silent.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
silent.bind(("127.0.0.1", silent_port))
silent.listen(1024)  # never accepted: the kernel completes the handshakes, nobody answers

stalled_body = json.dumps({
    "hook": "patient-view", "hookInstance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
    "fhirServer": f"http://127.0.0.1:{silent_port}/fhir",
    "fhirAuthorization": {"access_token": "t0k", "token_type": "Bearer", "expires_in": 300,
                          "scope": "user/*.read", "subject": "bench"},
    "context": {"userId": "Practitioner/bench", "patientId": "bench-patient"}}).encode()

def request(body, headers):
    head = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n" + headers
    return head.encode() + b"\r\n" + body

smuggled = b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
malformed = [
    ("te-gzip", request(smuggled, "Transfer-Encoding: gzip\r\n")),
    ("bad-chunk", request(b"zz\r\n{}\r\n0\r\n\r\n", "Transfer-Encoding: chunked\r\n")),
    ("bad-json", request(b"{not json", "Content-Length: 9\r\n")),
    ("two-auth", request(b"{}", "Authorization: Bearer a\r\nAuthorization: Bearer b\r\nContent-Length: 2\r\n")),
]

def exchange(data, timeout):
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as connection:
        connection.sendall(data)
        reply = b""
        while b"\r\n" not in reply:
            chunk = connection.recv(4096)
            if not chunk:
                break
            reply += chunk
        return reply.split(b" ", 2)[1].decode() if reply.startswith(b"HTTP/1.1 ") else "none"

def loop(kind, items):
    index = 0
    pause = 1.0 / malformed_rate if kind == "malformed" and malformed_rate > 0 else 0
    while not stop.is_set():
        if pause:
            time.sleep(pause)
        name, data = items[index % len(items)]
        index += 1
        try:
            status = exchange(data, 15)
        except OSError:
            status = "error"
        with lock:
            counts[f"{name} {status}"] += 1

threads = [threading.Thread(target=loop, args=("stalled", [("stalled", request(stalled_body, f"Content-Length: {len(stalled_body)}\r\n"))]), daemon=True)
           for _ in range(stalled_clients)]
threads += [threading.Thread(target=loop, args=("malformed", malformed), daemon=True) for _ in range(malformed_clients)]
signal.signal(signal.SIGTERM, lambda *_: stop.set())
for thread in threads:
    thread.start()
while not stop.is_set():
    time.sleep(0.2)
time.sleep(0.5)
with lock:
    print("fault traffic: " + ", ".join(f"{key}: {value}" for key, value in sorted(counts.items())))
