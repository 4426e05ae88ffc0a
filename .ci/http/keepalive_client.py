#!/usr/bin/env python3
"""N sequential GET / requests over one keep-alive HTTP/1.1 connection; checks each body.
Usage: keepalive_client.py HOST:PORT N"""
import socket
import sys

host, port = sys.argv[1].rsplit(":", 1)
n = int(sys.argv[2])
s = socket.create_connection((host, int(port)), timeout=10)
req = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"
buf = b""
for i in range(n):
    s.sendall(req)
    while True:
        head_end = buf.find(b"\r\n\r\n")
        if head_end >= 0:
            head = buf[:head_end].decode()
            length = [int(l.split(":")[1]) for l in head.split("\r\n") if l.lower().startswith("content-length:")][0]
            if len(buf) >= head_end + 4 + length:
                body = buf[head_end + 4: head_end + 4 + length]
                assert head.startswith("HTTP/1.1 200"), head
                assert body == b"hello from readyloop\n", body
                buf = buf[head_end + 4 + length:]
                break
        chunk = s.recv(65536)
        if not chunk:
            sys.exit(f"connection closed after {i} responses")
        buf += chunk
s.close()
