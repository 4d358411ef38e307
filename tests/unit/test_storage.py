"""Every file store keeps the same promises (a folder and an S3 bucket on a real S3-compatible
server), and the object-storage settings are checked before anything starts."""

from __future__ import annotations

import io
from typing import Any

import pytest

from portal.deposits.storage import FileStore, S3Settings, Store
from portal.deposits.storage.s3 import connect

CONTENT = b"%PDF-1.7\n" + bytes(range(256)) * 4000  # ~1 MB, every byte value


@pytest.fixture(params=["disk", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Any) -> Store:
    if request.param == "disk":
        return FileStore(tmp_path / "files")
    return connect(S3Settings.from_config(request.getfixturevalue("s3_storage")))


def test_a_saved_stream_reads_back_whole_and_is_left_open_at_its_start(store: Store) -> None:
    stream = io.BytesIO(CONTENT)
    stream.seek(1000)  # saved from its start, wherever it was read to
    key = store.save(stream)
    assert not stream.closed and stream.tell() == 0
    with store.open(key) as stored:
        assert stored.read() == CONTENT
        stored.seek(9)  # the OneConnect client rewinds the file for its one retry
        assert stored.read(3) == bytes([0, 1, 2])


def test_each_save_makes_a_new_key(store: Store) -> None:
    first, second = store.save(io.BytesIO(b"one")), store.save(io.BytesIO(b"two"))
    assert first != second and first.isalnum()
    with store.open(first) as one, store.open(second) as two:
        assert (one.read(), two.read()) == (b"one", b"two")


def test_a_local_path_holds_the_file_inside_the_block(store: Store) -> None:
    key = store.save(io.BytesIO(CONTENT))
    with store.local_path(key) as path:
        assert path.read_bytes() == CONTENT
    if not isinstance(store, FileStore):
        assert not path.exists()  # the copy is deleted after the block
    with store.open(key) as stored:  # and the stored file is untouched
        assert stored.read() == CONTENT


def test_a_deleted_file_is_missing_as_a_missing_file_is(store: Store) -> None:
    key = store.save(io.BytesIO(b"gone soon"))
    store.delete(key)
    store.delete(key)  # deleting twice is no error
    with pytest.raises(FileNotFoundError):
        store.open(key)
    with pytest.raises(FileNotFoundError), store.local_path(key):
        pass


@pytest.mark.parametrize("key", ["../../etc/passwd", "ab/cd", "", "a.b"])
def test_a_key_that_could_walk_paths_is_refused(store: Store, key: str) -> None:
    with pytest.raises(ValueError, match="invalid storage key"):
        store.open(key)
    with pytest.raises(ValueError, match="invalid storage key"):
        store.delete(key)


@pytest.mark.parametrize(
    ("url", "bucket", "prefix"),
    [
        ("s3://invoices", "invoices", ""),
        ("s3://invoices/", "invoices", ""),
        ("s3://invoices/portal", "invoices", "portal/"),
        ("s3://my.invoices-2026/portal/deposits/", "my.invoices-2026", "portal/deposits/"),
    ],
)
def test_a_storage_url_names_a_bucket_and_a_prefix(url: str, bucket: str, prefix: str) -> None:
    settings = S3Settings.from_config({"STORAGE_URL": url})
    assert (settings.bucket, settings.prefix) == (bucket, prefix)
    assert settings.access_key_id is None and settings.endpoint_url is None


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"STORAGE_URL": "/srv/portal/files"}, "must read s3://bucket/prefix"),
        ({"STORAGE_URL": "https://invoices/portal"}, "must read s3://bucket/prefix"),
        ({"STORAGE_URL": "s3:///portal"}, "must read s3://bucket/prefix"),
        ({"STORAGE_URL": "s3://invoices/portal?versioned=1"}, "must read s3://bucket/prefix"),
        ({"STORAGE_URL": "s3://Invoices/portal"}, "invalid S3 bucket"),
        ({"STORAGE_URL": "s3://ab"}, "invalid S3 bucket"),
        ({"STORAGE_URL": "s3://key:shh@invoices"}, "PORTAL_STORAGE_URL must not hold credentials"),
        ({"STORAGE_URL": "s3://invoices/a//b"}, "prefix"),
        ({"STORAGE_URL": "s3://invoices/a b"}, "prefix"),
        (
            {"STORAGE_URL": "s3://invoices", "S3_ACCESS_KEY_ID": "AKIAEXAMPLE"},
            "PORTAL_S3_ACCESS_KEY_ID and PORTAL_S3_SECRET_ACCESS_KEY go together",
        ),
        (
            {"STORAGE_URL": "s3://invoices", "S3_SECRET_ACCESS_KEY": "shh"},
            "go together",
        ),
        (
            {"STORAGE_URL": "s3://invoices", "S3_ENDPOINT_URL": "minio:9000"},
            "PORTAL_S3_ENDPOINT_URL must be an http",
        ),
        (
            {"STORAGE_URL": "s3://invoices", "S3_ENDPOINT_URL": "https://key:shh@minio:9000"},
            "must not hold credentials",
        ),
    ],
)
def test_malformed_storage_settings_are_refused_by_name(
    config: dict[str, str], message: str
) -> None:
    with pytest.raises(ValueError, match=message) as refusal:
        S3Settings.from_config(config)
    assert "shh" not in str(refusal.value)


def test_the_secret_key_never_shows_in_the_settings_repr() -> None:
    settings = S3Settings.from_config(
        {
            "STORAGE_URL": "s3://invoices/portal",
            "S3_ENDPOINT_URL": "https://s3.fr-par.scw.cloud/",
            "S3_REGION": "fr-par",
            "S3_ACCESS_KEY_ID": "SCWEXAMPLE",
            "S3_SECRET_ACCESS_KEY": "the-secret-value",
        }
    )
    assert settings.endpoint_url == "https://s3.fr-par.scw.cloud"
    assert settings.region == "fr-par" and settings.secret_access_key == "the-secret-value"
    assert "the-secret-value" not in repr(settings)
