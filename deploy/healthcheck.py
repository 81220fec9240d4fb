"""Container health probe for lambda-why.

    python healthcheck.py /healthz    GET http://127.0.0.1:$PORT/healthz, healthy on HTTP 200
    python healthcheck.py /readyz     the same for the readiness endpoint
    python healthcheck.py redis       PING the queue at $REDIS_URL (the worker's check: it
                                      serves no HTTP, and without Redis it cannot work)

Exit status 0 when healthy, 1 otherwise with one line on stderr. Used by the Dockerfile's
HEALTHCHECK and by docker-compose.yml.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request


def probe_http(path: str, port: str, timeout: float = 4.0) -> int:
    url = f"http://127.0.0.1:{port}{path}"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            status = int(response.status)
    except urllib.error.HTTPError as exc:
        print(f"{url}: HTTP {exc.code}", file=sys.stderr)
        return 1
    except (urllib.error.URLError, OSError) as exc:
        print(f"{url}: {exc}", file=sys.stderr)
        return 1
    if status != 200:
        print(f"{url}: HTTP {status}", file=sys.stderr)
        return 1
    return 0


def probe_redis(url: str | None, timeout: float = 4.0) -> int:
    if not url:
        print("REDIS_URL is not set", file=sys.stderr)
        return 1
    import redis

    try:
        client = redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)
        client.ping()
    except redis.RedisError as exc:
        print(f"redis: {exc}", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str]) -> int:
    target = argv[1] if len(argv) > 1 else "/healthz"
    if target == "redis":
        return probe_redis(os.environ.get("REDIS_URL"))
    return probe_http(target, os.environ.get("PORT", "3000"))


if __name__ == "__main__":
    sys.exit(main(sys.argv))
