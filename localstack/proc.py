"""Portable helpers for the local cloud scripts, so they need nothing
beyond bash, Python 3 and make (no curl, setsid, ss or sha256sum). Runs on
Python 3.6 and later, so that localstack/doctor.sh can use it to report an
old Python rather than fail inside it.

  proc.py healthy URL               exit 0 if URL answers 2xx within 2 s
  proc.py spawn PIDFILE LOG CMD...  start CMD in its own session, detached
  proc.py sha256 FILE               print the file's SHA-256
  proc.py port-free HOST PORT       exit 0 if nothing listens on PORT and
                                    a server could listen on HOST:PORT
"""

import hashlib
import socket
import subprocess
import sys
import urllib.request


def healthy(url):
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            return 0 if 200 <= resp.status < 300 else 1
    except OSError:
        return 1


def spawn(pidfile, log, cmd):
    with open(log, "wb") as out:
        # A new session makes the process a group leader, so down.sh can
        # stop it together with every Lambda process it starts.
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
    with open(pidfile, "w") as f:
        f.write("%d\n" % proc.pid)
    return 0


def sha256(path):
    with open(path, "rb") as f:
        print(hashlib.sha256(f.read()).hexdigest())
    return 0


def port_free(host, port):
    """0 when the port is free: nobody answers a connection on loopback and
    the emulator's own bind would succeed. The bind sets SO_REUSEADDR, as
    servers do, so the TIME_WAIT connections of a cloud that just stopped
    do not count as in use; a listener does, on any address."""
    for addr in ("127.0.0.1", "::1"):
        family = socket.AF_INET6 if ":" in addr else socket.AF_INET
        try:
            with socket.socket(family, socket.SOCK_STREAM) as s:
                s.settimeout(0.5)
                if s.connect_ex((addr, port)) == 0:
                    return 1
        except OSError:
            pass  # no IPv6 on this machine
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((host, port))
    except OSError:
        return 1
    return 0


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "healthy":
        sys.exit(healthy(args[0]))
    if cmd == "spawn":
        sys.exit(spawn(args[0], args[1], args[2:]))
    if cmd == "sha256":
        sys.exit(sha256(args[0]))
    if cmd == "port-free":
        sys.exit(port_free(args[0], int(args[1])))
    sys.exit("unknown command %s" % cmd)
