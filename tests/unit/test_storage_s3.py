"""The S3 store against a real S3-compatible server: objects under the prefix, multipart
uploads, memory that stays far below the file's size, and outages that lose nothing."""

from __future__ import annotations

import io
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from boto3.s3.transfer import TransferConfig

from portal.deposits.storage import S3Settings, StorageUnavailable
from portal.deposits.storage.s3 import ObjectStore, connect
from tests.support.s3 import SECRET_ACCESS_KEY, S3Process

MiB = 1024 * 1024


@pytest.fixture
def store(s3_storage: dict[str, str]) -> ObjectStore:
    return connect(S3Settings.from_config(s3_storage))


def test_files_are_objects_under_the_prefix(store: ObjectStore, s3_server: Any) -> None:
    key = store.save(io.BytesIO(b"%PDF-1.4 facture"))
    assert s3_server.objects(store.bucket) == {f"deposits/{key}": b"%PDF-1.4 facture"}
    store.delete(key)
    assert s3_server.objects(store.bucket) == {}


def test_a_bucket_without_prefix_keeps_the_keys_at_its_root(s3_server: Any) -> None:
    bucket = s3_server.new_bucket()
    store = connect(S3Settings.from_config(s3_server.settings(bucket, prefix="")))
    key = store.save(io.BytesIO(b"root"))
    assert list(s3_server.objects(bucket)) == [key]


def test_a_large_file_goes_up_in_parts_and_comes_back_whole(
    store: ObjectStore, s3_server: Any
) -> None:
    content = bytes(range(256)) * (11 * MiB // 256)
    parts = ObjectStore(
        store.client,
        store.bucket,
        store.prefix,
        # S3's smallest part is 5 MiB: an 11 MiB file makes three.
        transfer=TransferConfig(multipart_threshold=5 * MiB, multipart_chunksize=5 * MiB),
    )
    key = parts.save(io.BytesIO(content))
    head = s3_server.client.head_object(Bucket=store.bucket, Key=store.object_name(key))
    assert head["ETag"].strip('"').endswith("-3")  # S3 names a multipart object's parts
    with parts.open(key) as stored:
        assert stored.read() == content


@pytest.fixture(scope="module")
def s3_process() -> Iterator[S3Process]:
    server = S3Process()
    try:
        yield server
    finally:
        server.stop()


def test_files_stream_through_without_being_held_whole_in_memory(
    s3_process: S3Process, tmp_path: Path
) -> None:
    """With the S3 server in another process, this process's peak memory is the store's own."""
    store = connect(S3Settings.from_config(s3_process.settings(s3_process.new_bucket())))
    size = 40 * MiB
    source = tmp_path / "large.pdf"
    with source.open("wb") as handle:
        for block in range(size // MiB):
            handle.write(bytes([block]) * MiB)
    tracemalloc.start()
    try:
        with source.open("rb") as stream:
            key = store.save(stream)
        _, upload_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        with store.open(key) as stored:
            _, download_peak = tracemalloc.get_traced_memory()
            assert stored.read(MiB) == bytes([0]) * MiB
            stored.seek(size - MiB)
            assert stored.read() == bytes([size // MiB - 1]) * MiB
    finally:
        tracemalloc.stop()
    assert upload_peak < size / 2, f"upload peaked at {upload_peak / MiB:.1f} MiB"
    assert download_peak < 4 * MiB, f"download peaked at {download_peak / MiB:.1f} MiB"


def test_an_outage_is_a_clear_error_and_nothing_is_lost(store: ObjectStore, s3_server: Any) -> None:
    kept = store.save(io.BytesIO(b"stored before the outage"))
    with s3_server.outage():
        started = time.monotonic()
        with pytest.raises(StorageUnavailable) as refused:
            store.save(io.BytesIO(b"new"))
        assert time.monotonic() - started < 15  # a few quick retries, then the answer
        with pytest.raises(StorageUnavailable):
            store.open(kept)
        with pytest.raises(StorageUnavailable):
            store.delete(kept)
        with pytest.raises(StorageUnavailable), store.local_path(kept):
            pass
    message = str(refused.value)
    assert store.bucket in message and "could not store" in message
    assert SECRET_ACCESS_KEY not in message
    assert list(s3_server.objects(store.bucket)) == [store.object_name(kept)]
    with store.open(kept) as stored:
        assert stored.read() == b"stored before the outage"


def test_a_missing_bucket_is_unavailable_storage_not_a_missing_file(s3_server: Any) -> None:
    store = connect(S3Settings.from_config(s3_server.settings("portal-no-such-bucket")))
    with pytest.raises(StorageUnavailable, match="NoSuchBucket"):
        store.save(io.BytesIO(b"x"))
    with pytest.raises(StorageUnavailable, match="NoSuchBucket"):
        store.open("0" * 32)
