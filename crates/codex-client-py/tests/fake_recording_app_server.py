"""A stand-in for ``codex app-server`` on stdio that answers ``initialize`` and nothing else, and
records what it received: ``python fake_recording_app_server.py LOG``.

The method of every message read is appended to ``LOG`` (one a line, flushed at once) as soon as
it is read, so a test knows for certain that a request reached the server and is now waiting
for an answer that will never come.
"""

import json
import sys

INITIALIZE = {
    "userAgent": "fake_recording_app_server/0.163.0 (tests)",
    "codexHome": "/tmp/fake-codex-home",
    "platformFamily": "unix",
    "platformOs": "linux",
}


def main(log_path):
    for line in sys.stdin:
        try:
            message = json.loads(line)
        except ValueError:
            continue
        method = message.get("method")
        with open(log_path, "a") as log:
            log.write(f"{method}\n")
        if method == "initialize" and message.get("id") is not None:
            sys.stdout.write(json.dumps({"id": message["id"], "result": INITIALIZE}) + "\n")
            sys.stdout.flush()


if __name__ == "__main__":
    main(sys.argv[1])
