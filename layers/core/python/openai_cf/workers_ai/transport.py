"""The `requests` transport of the Workers AI session: pooled connections that follow cancel scopes.

Each connection taken from the pool is attached to the cancel scope bound to the taking thread
(`openai_cf.cancel.current()`) until it goes back to the pool, so cancelling an API request's scope
shuts down exactly the upstream connections that request is using (a blocked read returns at
once) and never one that another request has taken from the pool since.
"""

from __future__ import annotations

from typing import Any

from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.poolmanager import PoolManager

from openai_cf import cancel

_SCOPE = "_openai_cf_cancel_scope"


def _check_after_connect(conn: HTTPConnection) -> None:
    # A cancel that arrived while the connection was being opened found no socket to shut down.
    scope = getattr(conn, _SCOPE, None)
    if scope is not None and scope.cancelled:
        scope.attach(conn)


class _ScopedHTTPConnection(HTTPConnection):
    def connect(self) -> None:
        super().connect()
        _check_after_connect(self)


class _ScopedHTTPSConnection(HTTPSConnection):
    def connect(self) -> None:
        super().connect()
        _check_after_connect(self)


def _take(conn: Any) -> Any:
    scope = cancel.current()
    setattr(conn, _SCOPE, scope)
    if scope is not None:
        scope.attach(conn)
    return conn


def _give_back(conn: Any) -> None:
    scope = getattr(conn, _SCOPE, None)
    if scope is not None:
        scope.detach(conn)
        setattr(conn, _SCOPE, None)


class _ScopedPool(HTTPConnectionPool):
    """Both pool classes: a connection belongs to the taker's scope while it is out of the pool."""

    def _get_conn(self, timeout: float | None = None) -> Any:
        return _take(super()._get_conn(timeout))

    def _put_conn(self, conn: Any) -> None:
        if conn is not None:
            _give_back(conn)
        super()._put_conn(conn)


class _ScopedHTTPPool(_ScopedPool):
    ConnectionCls = _ScopedHTTPConnection


class _ScopedHTTPSPool(_ScopedPool, HTTPSConnectionPool):
    ConnectionCls = _ScopedHTTPSConnection


_POOLS = {"http": _ScopedHTTPPool, "https": _ScopedHTTPSPool}


class CancellableAdapter(HTTPAdapter):
    """`HTTPAdapter` whose connection pools attach their connections to the caller's cancel scope."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = dict(_POOLS)

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> PoolManager:
        manager: PoolManager = super().proxy_manager_for(proxy, **proxy_kwargs)
        manager.pool_classes_by_scheme = dict(_POOLS)
        return manager
