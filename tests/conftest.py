"""The platform as `make run` starts it, shared by the end-to-end tests of one session:
every server and service as processes behind the gateway, with the small demo province."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pyotp
import pytest
from sotay_kit.devstack.servers import free_port
from sotay_kit.devstack.stack import Stack
from sotay_kit.topology import SERVICES


@dataclass
class Platform:
    stack: Stack
    data_dir: Path
    description: dict[str, Any]
    credentials: dict[str, Any]
    _tokens: dict[str, tuple[float, str, str]] = field(default_factory=dict)

    @property
    def gateway(self) -> str:
        return str(self.description["gateway_url"])

    @property
    def nats_url(self) -> str:
        return str(self.description["nats_url"])

    def client(self, **kwargs: Any) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.gateway, timeout=30, **kwargs)

    async def token(self, label: str) -> str:
        """An access token of a demo account (admin, secretary, member): logs in once, then
        refreshes (the admin's TOTP code cannot be replayed within its 30 s step)."""
        async with self.client() as client:
            cached = self._tokens.get(label)
            if cached and time.monotonic() - cached[0] < 300:
                return cached[1]
            if cached:
                r = await client.post("/api/v1/auth/refresh", json={"refresh_token": cached[2]})
            else:
                creds = self.credentials[label]
                body = {"username": creds["username"], "password": creds["password"]}
                if creds.get("totp_secret"):
                    body["otp"] = pyotp.TOTP(creds["totp_secret"]).now()
                r = await client.post("/api/v1/auth/login", json=body)
            assert r.status_code == 200, r.text
            data = r.json()
            self._tokens[label] = (time.monotonic(), data["access_token"], data["refresh_token"])
            return str(data["access_token"])

    async def auth(self, label: str) -> dict[str, str]:
        return {"authorization": f"Bearer {await self.token(label)}"}


@pytest.fixture(scope="session")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    data = tmp_path_factory.mktemp("platform")
    stack = Stack(data, free_port(), {s.name: free_port() for s in SERVICES}, quiet=True)
    stack.start()
    try:
        yield Platform(
            stack,
            data,
            json.loads((data / "stack.json").read_text()),
            json.loads((data / "demo-credentials.json").read_text()),
        )
    finally:
        stack.stop()
