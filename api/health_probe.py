"""The health endpoint's database probe: one asynchronous psycopg connection of its own."""

from __future__ import annotations

import asyncio

import anyio
import psycopg

#: Upper bound of the database probe of ``/api/v1/health`` (seconds).
HEALTH_TIMEOUT_S = 0.8


class DatabaseProbe:
    """One asynchronous connection, reopened after any failure, for ``select 1``."""

    def __init__(self, conninfo: str) -> None:
        self.conninfo = conninfo
        self.conn: psycopg.AsyncConnection | None = None
        self.lock = asyncio.Lock()

    async def check(self) -> None:
        async with self.lock:
            try:
                if self.conn is None or self.conn.closed:
                    self.conn = await psycopg.AsyncConnection.connect(
                        self.conninfo, autocommit=True, connect_timeout=2)
                await self.conn.execute("select 1")
            except BaseException:
                await self.close()  # timed out or failed mid-way: its state is unknown
                raise

    async def query(self, sql: str) -> list[tuple]:
        """Rows of one read-only statement on the probe's connection (opened by :meth:`check`)."""
        async with self.lock:
            if self.conn is None or self.conn.closed:
                raise psycopg.OperationalError("the health probe is not connected")
            try:
                cursor = await self.conn.execute(sql)
                return await cursor.fetchall()
            except BaseException:
                await self.close()
                raise

    async def close(self) -> None:
        conn, self.conn = self.conn, None
        if conn is not None and not conn.closed:
            with anyio.CancelScope(shield=True), anyio.move_on_after(1):
                await conn.close()
