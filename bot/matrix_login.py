"""Logging in koopbot's Matrix device: the saved credentials restored, or the first password
login, then the cross-signed identity."""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from nio import AsyncClient, AsyncClientConfig, LoginError, WhoamiError

from bot.matrix_identity import establish_identity
from bot.matrix_keys import KoopbotClient
from config.logs import register_secret
from config.messengers import MatrixSettings

log = logging.getLogger(__name__)

CREDENTIALS_FILE = "credentials.json"


class MatrixStartError(Exception):
    """The adapter cannot start (login, stored credentials); the message names the reason."""


@dataclass
class Credentials:
    """What the first password login yields; kept in the store directory, mode 0600."""

    homeserver: str
    user_id: str
    device_id: str
    access_token: str

    @classmethod
    def load(cls, path: Path) -> Credentials | None:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            raise MatrixStartError(f"matrix credentials file {path} is unreadable: {exc}") from exc
        try:
            return cls(
                **{k: str(data[k]) for k in ("homeserver", "user_id", "device_id")},
                access_token=str(data["access_token"]),
            )
        except KeyError as exc:
            raise MatrixStartError(f"matrix credentials file {path} lacks {exc}") from exc

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(asdict(self), fh)
        tmp.replace(path)


class DeviceLogin:
    """Restores the saved device, or logs in with the password once and saves the device."""

    def __init__(
        self, config: MatrixSettings, store_dir: Path, *, homeserver: str, user_id: str
    ) -> None:
        self.config = config
        self.store_dir = store_dir
        self.homeserver = homeserver
        self.user_id = user_id
        self.creds_path = store_dir / CREDENTIALS_FILE
        self._saved: Credentials | None = None

    def client(self) -> AsyncClient:
        """The device's client, its saved login restored (no request made yet)."""
        self.store_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.store_dir, 0o700)
        creds = Credentials.load(self.creds_path)
        if creds is not None and creds.user_id != self.user_id:
            raise MatrixStartError(
                f"{self.creds_path} belongs to {creds.user_id}, not matrix.user_id {self.user_id}"
            )
        config = AsyncClientConfig(
            encryption_enabled=True,
            # The sync position lives in the database and moves only past handled events
            # (nio would store it before its callbacks even ran).
            store_sync_tokens=False,
            max_limit_exceeded=0,  # M_LIMIT_EXCEEDED comes back to us: see MatrixSender
            max_timeouts=2,
        )
        client = KoopbotClient(
            self.homeserver,
            self.user_id,
            device_id=creds.device_id if creds else None,
            store_path=str(self.store_dir),
            config=config,
        )
        if creds is not None:
            client.restore_login(creds.user_id, creds.device_id, creds.access_token)
            register_secret(creds.access_token)  # masked in every log (issue 11)
        self._saved = creds
        return client

    async def log_in(self, client: AsyncClient) -> None:
        """Check the restored login (or log in with the password), then the identity."""
        if self._saved is not None:
            who = await client.whoami()
            if isinstance(who, WhoamiError):
                if who.status_code != "M_UNKNOWN_TOKEN" or self.config.password is None:
                    raise MatrixStartError(f"matrix: the saved access token fails: {who}")
                # Same device id: the crypto store stays valid, history stays decryptable.
                await self._password_login(client)
        else:
            if self.config.password is None:
                raise MatrixStartError(
                    "matrix: first start needs a password (KOOPBOT_MATRIX__PASSWORD)"
                )
            await self._password_login(client)
        await establish_identity(client, self.config, self.store_dir)  # cross-signed, see there

    async def _password_login(self, client: AsyncClient) -> None:
        assert self.config.password is not None
        resp = await client.login(
            self.config.password.get_secret_value(), device_name=self.config.device_name
        )
        if isinstance(resp, LoginError):
            # The message is the server's; it never contains the password.
            raise MatrixStartError(f"matrix login as {self.user_id} failed: {resp.message}")
        register_secret(resp.access_token)  # masked in every log (issue 11)
        Credentials(self.homeserver, resp.user_id, resp.device_id, resp.access_token).save(
            self.creds_path
        )
        log.info("matrix: logged in as %s, device %s", resp.user_id, resp.device_id)
