"""The same Parquet/JSON IO managers on S3, through dagster-aws's ``S3Resource`` (boto3).

Why boto3 and not ``UPath("s3://…")``: UPath on S3 needs ``s3fs``, whose ``aiobotocore`` pins
botocore to a narrow range that conflicts with the boto3/botocore dagster-aws and moto already
bring. The IO managers keep UPath for *key* arithmetic (partition paths, extensions) and only swap
the byte store: one ``put_object`` of a complete object (atomic on S3), ``get_object`` to read.
"""

from pathlib import Path
from typing import Any, ClassVar

import dagster as dg
from dagster_aws.s3 import S3Resource
from upath import UPath

from ml_platform.io.storage import JsonIOManager, ParquetIOManager, _BytesStore


class _S3Store(_BytesStore):
    """Keys ``<prefix>/<asset path>/<partition>.<ext>`` in ``bucket``."""

    def __init__(self, client: Any, bucket: str, prefix: str) -> None:
        self.client = client
        self.bucket = bucket
        super().__init__(base_path=UPath(prefix.strip("/") or "."))

    @staticmethod
    def _key(path: UPath) -> str:
        key = path.as_posix()
        return key[2:] if key.startswith("./") else key

    def uri(self, path: UPath) -> str:
        return f"s3://{self.bucket}/{self._key(path)}"

    def local_path(self, path: UPath) -> Path | None:
        return None  # keys, not files: Spark's files are staged locally (see ParquetIOManager)

    def write_bytes(self, path: UPath, data: bytes) -> None:
        self.client.put_object(Bucket=self.bucket, Key=self._key(path), Body=data)

    def read_bytes(self, path: UPath) -> bytes:
        try:
            return self.client.get_object(Bucket=self.bucket, Key=self._key(path))["Body"].read()
        except self.client.exceptions.NoSuchKey as exc:
            raise FileNotFoundError(f"no object {self.uri(path)}") from exc

    def names_in(self, folder: UPath) -> set[str]:
        prefix = self._key(folder).rstrip("/") + "/"
        names: set[str] = set()
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
            names.update(
                o["Key"][len(prefix) :]
                for o in page.get("Contents", [])
                if "/" not in o["Key"][len(prefix) :]
            )
        return names

    def path_exists(self, path: UPath) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=self._key(path))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound"}:
                return False
            raise
        return True

    def unlink(self, path: UPath) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._key(path))

    def make_directory(self, path: UPath) -> None:
        return None  # S3 has no directories

    def _handle_transition_to_partitioned_asset(self, context: dg.OutputContext, path: UPath) -> None:
        return None  # keys of a partitioned asset never collide with the unpartitioned one's key

    def get_metadata(self, context: dg.OutputContext, obj: Any) -> dict[str, dg.MetadataValue]:
        if context.has_asset_partitions:
            path = next(iter(self._get_paths_for_partitions(context).values()))
        else:
            path = self._get_path(context)
        return {"path": dg.MetadataValue.path(self.uri(path))}


class S3ParquetIO(_S3Store, ParquetIOManager):
    """Parquet tables on S3, one object per daily partition."""


class S3JsonIO(_S3Store, JsonIOManager):
    """JSON records on S3."""


class _S3IOManagerFactory(dg.ConfigurableIOManagerFactory):
    s3: S3Resource
    bucket: str
    prefix: str = "ml_platform/storage"
    _io_class: ClassVar[type[_S3Store]]

    def create_io_manager(self, context: dg.InitResourceContext) -> _S3Store:
        return self._io_class(self.s3.get_client(), self.bucket, self.prefix)


class S3ParquetIOManager(_S3IOManagerFactory):
    """Parquet tables under ``s3://<bucket>/<prefix>``."""

    _io_class = S3ParquetIO


class S3JsonIOManager(_S3IOManagerFactory):
    """JSON records under ``s3://<bucket>/<prefix>``."""

    _io_class = S3JsonIO
