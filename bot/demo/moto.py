"""An in-process moto server on a free local port, for the demo and the end-to-end tests.

moto keeps its state per process: everything seeded through this server is visible to any
client (in this process or another) that points `AWS_ENDPOINT_URL` at `endpoint_url`.
"""

from __future__ import annotations

import logging
import os
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

#: fake credentials for a moto endpoint; moto maps unknown keys to its default account
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
}
#: the account moto answers for with credentials it does not know
DEFAULT_ACCOUNT = "123456789012"
DEFAULT_REGION = "us-east-1"


@dataclass(frozen=True)
class MotoEndpoint:
    """A running moto server."""

    endpoint_url: str
    region: str = DEFAULT_REGION

    def client_env(self) -> dict[str, str]:
        """Environment for a process (e.g. `lambda-why check`) that talks to this server."""
        return {
            **FAKE_CREDENTIALS,
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_REGION": self.region,
        }

    def reset(self) -> None:
        """Drop every resource in every account (moto's `/moto-api/reset`).

        The first request to a fresh server loads moto's backends: allow it a minute on a
        busy machine (parallel test runs), not the 10 s that made fixtures flaky."""
        request = urllib.request.Request(f"{self.endpoint_url}/moto-api/reset", method="POST")
        with urllib.request.urlopen(request, timeout=60) as response:
            response.read()


@contextmanager
def moto_server(region: str = DEFAULT_REGION) -> Iterator[MotoEndpoint]:
    """Run moto's threaded server on 127.0.0.1 and a free port until the block ends.

    AWS managed policies (AWSLambdaBasicExecutionRole, ...) are loaded: moto reads
    `MOTO_IAM_LOAD_MANAGED_POLICIES` when it creates an account's IAM backend, so the
    variable is set in this process and the backends are reset once the server runs.
    """
    from moto.server import ThreadedMotoServer

    # werkzeug logs every request, and a traceback per unimplemented moto action
    # (CloudTrail LookupEvents), on stderr: keep the terminal readable
    logging.getLogger("werkzeug").setLevel(logging.CRITICAL)
    previous = os.environ.get("MOTO_IAM_LOAD_MANAGED_POLICIES")
    os.environ["MOTO_IAM_LOAD_MANAGED_POLICIES"] = "true"
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint = MotoEndpoint(endpoint_url=f"http://{host}:{port}", region=region)
        endpoint.reset()
        yield endpoint
    finally:
        server.stop()
        if previous is None:
            os.environ.pop("MOTO_IAM_LOAD_MANAGED_POLICIES", None)
        else:
            os.environ["MOTO_IAM_LOAD_MANAGED_POLICIES"] = previous
