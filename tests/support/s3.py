"""Real S3-compatible servers for the tests: moto in server mode on a free 127.0.0.1 port.

S3Server serves moto's WSGI app (the one its ThreadedMotoServer and `moto_server` serve) from a
thread of the test process, and can be stopped and started again on the same port with its
objects kept: an object-storage outage. S3Process runs `python -m moto.server` apart, for tests
that measure this process's own memory."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import WSGIRequestHandler

from tests.support.serving import BackgroundServer

REGION = "eu-west-3"
ACCESS_KEY_ID = "portal-test-key"
SECRET_ACCESS_KEY = "portal-test-secret-do-not-log"


class _Endpoint:
    endpoint_url: str

    @property
    def client(self) -> Any:
        return boto3.session.Session(
            aws_access_key_id=ACCESS_KEY_ID,
            aws_secret_access_key=SECRET_ACCESS_KEY,
            region_name=REGION,
        ).client("s3", endpoint_url=self.endpoint_url)

    def new_bucket(self) -> str:
        name = f"portal-{uuid.uuid4().hex[:16]}"
        self.client.create_bucket(
            Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION}
        )
        return name

    def settings(self, bucket: str, prefix: str = "deposits") -> dict[str, str]:
        """The app's configuration for this bucket (what the PORTAL_S3_* variables give)."""
        return {
            "STORAGE_URL": f"s3://{bucket}/{prefix}",
            "S3_ENDPOINT_URL": self.endpoint_url,
            "S3_REGION": REGION,
            "S3_ACCESS_KEY_ID": ACCESS_KEY_ID,
            "S3_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY,
        }

    def objects(self, bucket: str) -> dict[str, bytes]:
        """Every object of the bucket, by name, with its content."""
        client = self.client
        listed = client.list_objects_v2(Bucket=bucket).get("Contents", [])
        return {
            item["Key"]: client.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
            for item in listed
        }


class _Quiet(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


class S3Server(_Endpoint):
    def __init__(self) -> None:
        self._app = DomainDispatcherApplication(create_backend_app)
        self._serving: BackgroundServer | None = self._serve(port=0)
        self.endpoint_url = self._serving.url
        self.port = int(self.endpoint_url.rsplit(":", 1)[1])

    def _serve(self, port: int) -> BackgroundServer:
        return BackgroundServer(self._app, name="moto-s3", port=port, request_handler=_Quiet)

    def stop(self) -> None:
        if self._serving is not None:
            self._serving.stop()
            self._serving = None

    def start(self) -> None:
        if self._serving is None:
            self._serving = self._serve(self.port)

    @contextmanager
    def outage(self) -> Iterator[None]:
        """The server is down (connections refused) inside the block, back after it."""
        self.stop()
        try:
            yield
        finally:
            self.start()


class S3Process(_Endpoint):
    def __init__(self) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        self.endpoint_url = f"http://127.0.0.1:{port}"
        self._process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self._wait_until_listening(port)

    def _wait_until_listening(self, port: int) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError("moto_server exited before it listened")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("moto_server did not listen within 30 s")

    def stop(self) -> None:
        self._process.terminate()
        try:
            self._process.wait(10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
