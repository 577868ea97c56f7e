"""The few client-server endpoints cross-signing and secret storage need (matrix-nio 0.26
has none of them): keys query, cross-signing upload with user-interactive auth, signature
upload, account data. aiohttp with the bot's access token; nothing here is logged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import aiohttp

_TIMEOUT = aiohttp.ClientTimeout(total=60)


class KeysApiError(Exception):
    """The homeserver refused a request; carries its errcode and message (never a secret)."""

    def __init__(self, what: str, status: int, body: Any) -> None:
        self.status = status
        self.errcode = body.get("errcode") if isinstance(body, dict) else None
        error = body.get("error") if isinstance(body, dict) else None
        super().__init__(f"{what}: HTTP {status} {self.errcode or ''} {error or ''}".strip())


@dataclass
class AuthRequired(Exception):
    """HTTP 401 with user-interactive auth flows (spec: "User-Interactive Authentication")."""

    flows: list[list[str]]
    session: str | None
    completed: list[str] = field(default_factory=list)

    def offers(self, stage: str) -> bool:
        return any(flow and flow[0] == stage for flow in self.flows)


@dataclass
class OwnKeys:
    """What `/keys/query` says about one's own user."""

    master: dict[str, Any] | None
    self_signing: dict[str, Any] | None
    user_signing: dict[str, Any] | None
    devices: dict[str, dict[str, Any]]


class KeysApi:
    """One account's view of its keys and account data on its homeserver."""

    def __init__(
        self, session: aiohttp.ClientSession, homeserver: str, user_id: str, access_token: str
    ) -> None:
        self._session = session
        self._base = homeserver.rstrip("/") + "/_matrix/client/v3"
        self.user_id = user_id
        self._headers = {"Authorization": f"Bearer {access_token}"}

    async def _request(
        self, method: str, path: str, what: str, body: Any = None, accept: tuple[int, ...] = ()
    ) -> tuple[int, Any]:
        async with self._session.request(
            method, self._base + path, json=body, headers=self._headers, timeout=_TIMEOUT
        ) as resp:
            try:
                data = await resp.json(content_type=None)
            except ValueError:
                data = None
            if resp.status >= 400 and resp.status not in accept:
                raise KeysApiError(what, resp.status, data)
            return resp.status, data

    async def own_keys(self) -> OwnKeys:
        _, data = await self._request(
            "POST", "/keys/query", "keys query", {"device_keys": {self.user_id: []}}
        )
        if not isinstance(data, dict):
            raise KeysApiError("keys query", 200, None)

        def one(section: str) -> dict[str, Any] | None:
            value = data.get(section, {}).get(self.user_id)
            return value if isinstance(value, dict) else None

        devices = data.get("device_keys", {}).get(self.user_id, {})
        return OwnKeys(
            one("master_keys"), one("self_signing_keys"), one("user_signing_keys"), dict(devices)
        )

    async def upload_cross_signing(
        self, body: dict[str, Any], auth: dict[str, Any] | None = None
    ) -> None:
        """`POST /keys/device_signing/upload`; AuthRequired when the server asks for UIA."""
        payload = dict(body) if auth is None else {**body, "auth": auth}
        status, data = await self._request(
            "POST", "/keys/device_signing/upload", "cross-signing upload", payload, (401,)
        )
        if status == 401:
            if isinstance(data, dict) and "flows" in data:
                flows = [list(f.get("stages", [])) for f in data.get("flows", [])]
                raise AuthRequired(flows, data.get("session"), list(data.get("completed", [])))
            raise KeysApiError("cross-signing upload", status, data)

    async def upload_signatures(self, signed: dict[str, dict[str, Any]]) -> None:
        """`POST /keys/signatures/upload` for own keys; key id (device id or key) -> object."""
        _, data = await self._request(
            "POST", "/keys/signatures/upload", "signature upload", {self.user_id: signed}
        )
        failures = (data or {}).get("failures", {}).get(self.user_id) if data else None
        if failures:
            first = next(iter(failures.values()))
            raise KeysApiError("signature upload", 400, first if isinstance(first, dict) else {})

    def _account_data_path(self, event_type: str) -> str:
        return f"/user/{quote(self.user_id, safe='')}/account_data/{quote(event_type, safe='')}"

    async def account_data(self, event_type: str) -> dict[str, Any] | None:
        """One account data event's content, None if the account has none of this type."""
        status, data = await self._request(
            "GET", self._account_data_path(event_type), f"account data {event_type}", accept=(404,)
        )
        if status == 404 or not isinstance(data, dict) or not data:
            return None
        return data

    async def put_account_data(self, event_type: str, content: dict[str, Any]) -> None:
        await self._request(
            "PUT", self._account_data_path(event_type), f"account data {event_type}", content
        )
