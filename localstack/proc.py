"""Portable helpers for the local cloud scripts, so they need nothing
beyond bash, Python 3 and make (no curl, setsid or sha256sum).

  proc.py healthy URL               exit 0 if URL answers 2xx within 2 s
  proc.py spawn PIDFILE LOG CMD...  start CMD in its own session, detached
  proc.py sha256 FILE               print the file's SHA-256
"""

import hashlib
import subprocess
import sys
import urllib.request


def healthy(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            return 0 if 200 <= resp.status < 300 else 1
    except OSError:
        return 1


def spawn(pidfile: str, log: str, cmd: list[str]) -> int:
    with open(log, "wb") as out:
        # A new session makes the process a group leader, so down.sh can
        # stop it together with every Lambda process it starts.
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
    with open(pidfile, "w") as f:
        f.write(f"{proc.pid}\n")
    return 0


def sha256(path: str) -> int:
    with open(path, "rb") as f:
        print(hashlib.sha256(f.read()).hexdigest())
    return 0


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "healthy":
        sys.exit(healthy(args[0]))
    if cmd == "spawn":
        sys.exit(spawn(args[0], args[1], args[2:]))
    if cmd == "sha256":
        sys.exit(sha256(args[0]))
    sys.exit(f"unknown command {cmd}")
