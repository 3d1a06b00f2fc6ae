"""The one place boto3 clients are built, and how their answers are recorded as evidence.

Clients get botocore's `standard` retry mode (throttling, 5xx and timeouts retried with backoff;
AccessDenied surfaced at once), connection pools sized to the worker pools that share them, and the
standard AWS environment: the credentials chain, AWS_REGION or AWS_DEFAULT_REGION, AWS_ENDPOINT_URL.
Nothing here overrides those.
"""

from __future__ import annotations

import datetime as dt
import os
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

Item = TypeVar("Item")
Result = TypeVar("Result")


class AwsClients:
    """A thread-safe cache of boto3 clients, one per service and region, from one boto3 session."""

    def __init__(
        self,
        session: boto3.session.Session | None = None,
        *,
        max_pool_connections: int = 16,
        connect_timeout: float = 5.0,
        read_timeout: float = 30.0,
        max_attempts: int | None = None,
    ) -> None:
        self.session = session or boto3.session.Session()
        retries: dict[str, Any] = {"mode": "standard"}
        if max_attempts is not None:
            retries["total_max_attempts"] = max_attempts
        self._config = Config(
            retries=retries,
            max_pool_connections=max_pool_connections,
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
        )
        self._clients: dict[tuple[str, str | None], Any] = {}
        self._lock = threading.Lock()

    def client(self, service: str, region: str | None = None) -> Any:
        """A client for a service; the source's own region when it names one, else the environment's."""
        # botocore itself reads only AWS_DEFAULT_REGION; AWS_REGION is the SDK-wide name and wins when set.
        region = region or os.environ.get("AWS_REGION") or None
        with self._lock:
            key = (service, region)
            if key not in self._clients:
                self._clients[key] = self.session.client(service, region_name=region, config=self._config)
            return self._clients[key]


def jsonable(value: Any) -> Any:
    """An API answer as plain JSON values: timestamps in ISO 8601 UTC, bytes left out."""
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items() if k != "ResponseMetadata" and not isinstance(v, bytes)}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, dt.datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
        return moment.astimezone(dt.UTC).isoformat()
    return value


def error_record(error: Exception) -> dict[str, Any]:
    """An exception from botocore as evidence: code, message and HTTP status."""
    if isinstance(error, ClientError):
        details = error.response.get("Error", {})
        return {
            "code": str(details.get("Code") or "Unknown"),
            "message": str(details.get("Message") or ""),
            "http_status": error.response.get("ResponseMetadata", {}).get("HTTPStatusCode"),
        }
    return {"code": type(error).__name__, "message": str(error)}


def call(operation: Callable[..., dict[str, Any]], **params: Any) -> dict[str, Any]:
    """Run one API call and record its answer or its error, never raising for AWS-side failures."""
    try:
        response = operation(**params)
    except (ClientError, BotoCoreError) as error:
        return {"error": error_record(error)}
    return {"response": jsonable(response)}


def bounded_map(
    function: Callable[[Item], Result],
    items: Iterable[Item],
    max_workers: int,
    progress: Callable[[int], None] | None = None,
) -> list[Result]:
    """function over items on at most max_workers threads, submitting in slices so memory stays bounded."""
    results: list[Result] = []
    with ThreadPoolExecutor(max_workers=max_workers) as pool:
        for chunk in _slices(items, max_workers * 32):
            chunk_results = list(pool.map(function, chunk))
            results.extend(chunk_results)
            if progress is not None:
                progress(len(chunk_results))
    return results


def _slices(items: Iterable[Item], size: int) -> Iterator[list[Item]]:
    chunk: list[Item] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
