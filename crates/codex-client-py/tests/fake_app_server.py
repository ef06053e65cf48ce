"""A scripted stand-in for ``codex app-server`` on stdio, for the tests of what the client does
when the server misbehaves. ``python fake_app_server.py MODE``:

* ``only-initialize``: answers ``initialize`` and nothing else (requests wait for ever);
* ``linger``: answers ``initialize``; at the end of its input it ignores SIGTERM and does not
  exit (an app-server stuck in its shutdown) until it is killed;
* ``garbage``: answers ``initialize`` and ``model/list``, and writes lines that are not
  JSON-RPC messages (not JSON, truncated JSON, JSON of the wrong shape, blank lines, an answer to
  a request nobody sent, a notification nobody knows) before and after every answer.
"""

import json
import signal
import sys
import time

GARBAGE = [
    "this is not json",
    '{"id": 1, "result": {"trunc',
    "",
    "   ",
    "[1, 2, 3]",
    '"a string"',
    "null",
    '{"neither": "a request nor an answer"}',
    '{"id": 987654, "result": {}}',
    '{"method": "fake/unknownNotification", "params": {"x": 1}}',
    "\u00e9\u00e8 \ufffd not json either",
]


def send(message):
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def send_garbage():
    for line in GARBAGE:
        sys.stdout.write(line + "\n")
    sys.stdout.flush()


def main(mode):
    for line in sys.stdin:
        try:
            message = json.loads(line)
        except ValueError:
            continue
        method, id_ = message.get("method"), message.get("id")
        if id_ is None:
            continue  # a notification (`initialized`)
        if mode == "garbage":
            send_garbage()
        if method == "initialize":
            send({"id": id_, "result": {
                "userAgent": "fake_app_server/0.163.0 (tests)",
                "codexHome": "/tmp/fake-codex-home",
                "platformFamily": "unix",
                "platformOs": "linux",
            }})
        elif mode == "garbage" and method == "model/list":
            send({"id": id_, "result": {"data": [], "nextCursor": None}})
        if mode == "garbage":
            send_garbage()
    if mode == "linger":
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        time.sleep(600)


if __name__ == "__main__":
    main(sys.argv[1])
