"""Deposited files as objects in an S3-compatible bucket (AWS S3, MinIO, Ceph, Garage…), so that
every instance of the portal sees the same files without a shared disk.

Files are streamed both ways and never held whole in memory twice: uploads go through boto3's
transfer manager (one part in memory at a time, multipart above MULTIPART_BYTES), downloads copy
the object's body chunk by chunk into a temporary file that stays in memory while it is small.
"""

from __future__ import annotations

import errno
import tempfile
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import IO, Any, BinaryIO, cast

import boto3
from boto3.exceptions import S3UploadFailedError
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from portal.deposits.storage.settings import S3Settings
from portal.deposits.storage.store import StorageUnavailable, checked_key, new_key

MULTIPART_BYTES = 8 * 1024 * 1024
CHUNK_BYTES = 64 * 1024
# A download larger than this goes on to disk; an invoice is at most 5 MB.
SPOOL_IN_MEMORY_BYTES = 1024 * 1024
# S3's answers when the object is not there (404 from HEAD carries no error code).
_MISSING = {"NoSuchKey", "404", "NotFound"}

# A sequential transfer: one part in memory at a time, and no threads started per request.
TRANSFER = TransferConfig(
    multipart_threshold=MULTIPART_BYTES, multipart_chunksize=MULTIPART_BYTES, use_threads=False
)


class ObjectStore:
    """Files as objects `<prefix><key>` of one bucket."""

    def __init__(
        self, client: Any, bucket: str, prefix: str = "", *, transfer: TransferConfig = TRANSFER
    ) -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = prefix
        self.transfer = transfer

    def object_name(self, key: str) -> str:
        return self.prefix + checked_key(key)

    def save(self, stream: BinaryIO) -> str:
        """Upload the stream from its start; returns the new key once S3 holds the object
        (S3 answers only after it has stored it durably)."""
        key = new_key()
        stream.seek(0)
        try:
            self.client.upload_fileobj(
                _KeptOpen(stream), self.bucket, self.object_name(key), Config=self.transfer
            )
        except (BotoCoreError, ClientError, S3UploadFailedError) as error:
            raise self._unavailable("store", key, error) from error
        finally:
            stream.seek(0)
        return key

    def open(self, key: str) -> BinaryIO:
        copy = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY_BYTES)  # noqa: SIM115 (returned open: the caller closes it)
        try:
            self._download(key, copy)
        except BaseException:
            copy.close()
            raise
        copy.seek(0)
        return cast(BinaryIO, copy)

    def delete(self, key: str) -> None:
        try:  # S3 answers 204 for a key it does not hold too
            self.client.delete_object(Bucket=self.bucket, Key=self.object_name(key))
        except (BotoCoreError, ClientError) as error:
            raise self._unavailable("delete", key, error) from error

    @contextmanager
    def local_path(self, key: str) -> Iterator[Path]:
        with tempfile.NamedTemporaryFile(prefix="portal-", suffix=".copy") as copy:
            self._download(key, copy)
            copy.flush()
            yield Path(copy.name)

    def _download(self, key: str, target: IO[bytes]) -> None:
        name = self.object_name(key)
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=name)
            with closing(answer["Body"]) as body:
                for chunk in body.iter_chunks(CHUNK_BYTES):
                    target.write(chunk)
        except ClientError as error:
            if _error_code(error) in _MISSING:
                raise FileNotFoundError(errno.ENOENT, "No such stored file", name) from error
            raise self._unavailable("read", key, error) from error
        except BotoCoreError as error:  # unreachable, timed out, or cut off mid-body
            raise self._unavailable("read", key, error) from error

    def _unavailable(self, action: str, key: str, error: Exception) -> StorageUnavailable:
        return StorageUnavailable(
            f"S3 bucket {self.bucket!r}: could not {action} {self.prefix}{key} "
            f"({type(error).__name__}: {error})"
        )


def _error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


class _KeptOpen:
    """The caller's stream, read by the transfer manager, which closes what it is given."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream

    def read(self, size: int = -1) -> bytes:
        return self._stream.read(size)

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._stream.seek(offset, whence)

    def tell(self) -> int:
        return self._stream.tell()

    def seekable(self) -> bool:
        return True

    def close(self) -> None:
        pass


def connect(settings: S3Settings) -> ObjectStore:
    """An ObjectStore for these settings. Creating the client makes no request; credentials
    are the PORTAL_S3_* ones when given, else boto3's usual chain (AWS_* variables, a profile,
    an instance or pod role)."""
    custom = settings.endpoint_url is not None
    config = Config(
        connect_timeout=5,
        read_timeout=30,
        retries={"max_attempts": 3, "mode": "standard"},
        # MinIO and most self-hosted stores serve buckets as paths, not as host names.
        s3={"addressing_style": "path" if custom else "auto"},
        # Several S3-compatible servers refuse the CRC checksums boto3 sends by default since
        # 1.36: against them, checksums only where the API requires one.
        request_checksum_calculation="when_required" if custom else "when_supported",
        response_checksum_validation="when_required" if custom else "when_supported",
    )
    session = boto3.session.Session(
        aws_access_key_id=settings.access_key_id,
        aws_secret_access_key=settings.secret_access_key,
        region_name=settings.region,
    )
    client = session.client("s3", endpoint_url=settings.endpoint_url, config=config)
    return ObjectStore(client, settings.bucket, settings.prefix)
