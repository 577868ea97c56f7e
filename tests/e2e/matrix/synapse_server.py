"""A real Synapse homeserver for tests and benchmarks: generated config, 127.0.0.1 only.

Synapse lives in its own venv (`.venv-synapse`, installed by `.ci/run`); the interpreter is
`$KOOPBOT_SYNAPSE_PYTHON` or `<repo>/.venv-synapse/bin/python`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[3]
DEFAULT_PYTHON = REPO / ".venv-synapse" / "bin" / "python"
SERVER_NAME = "localhost"

_FAST = {"per_second": 1000, "burst_count": 10000}
# Everything is raised except rc_message, which keeps Synapse's default (0.2/s, burst 10);
# every user but the one in the backoff test is exempted from it per user (admin API).
_RATE_LIMITS: dict[str, Any] = {
    "rc_registration": _FAST,
    "rc_login": {"address": _FAST, "account": _FAST, "failed_attempts": _FAST},
    "rc_joins": {"local": _FAST, "remote": _FAST},
    "rc_joins_per_room": _FAST,
    "rc_invites": {"per_room": _FAST, "per_user": _FAST, "per_issuer": _FAST},
    "rc_room_creation": _FAST,
    "rc_presence": {"per_user": _FAST},
    "rc_profile": _FAST,
    "rc_user_directory": _FAST,
    "rc_key_requests": _FAST,
    "rc_third_party_invite": _FAST,
}


class SynapseError(AssertionError):
    """Synapse could not be started or did not answer as expected."""


def synapse_python() -> Path:
    """The interpreter of Synapse's venv; fails loudly (never skips) when it is missing."""
    path = Path(os.environ.get("KOOPBOT_SYNAPSE_PYTHON", DEFAULT_PYTHON))
    if not path.exists():
        raise SynapseError(
            f"Synapse is not installed: {path} does not exist. Run `bash .ci/run` once, or "
            f"`python3 -m venv .venv-synapse && .venv-synapse/bin/pip install "
            f"matrix-synapse==1.163.2`, or set KOOPBOT_SYNAPSE_PYTHON."
        )
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Account:
    user_id: str
    password: str
    access_token: str
    device_id: str


class Synapse:
    """One homeserver process in `directory`; `start()` waits until it answers."""

    def __init__(self, directory: Path, *, python: Path | None = None) -> None:
        self.directory = directory
        self.python = python or synapse_python()
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None
        self.admin: Account | None = None
        self._secret = ""

    def start(self, timeout: float = 60.0) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        config = self.directory / "homeserver.yaml"
        if not config.exists():
            # From inside the directory: the generated log config writes homeserver.log there.
            subprocess.run(
                [
                    str(self.python), "-m", "synapse.app.homeserver",
                    "--server-name", SERVER_NAME,
                    "--config-path", str(config),
                    "--data-directory", str(self.directory),
                    "--generate-config", "--report-stats=no",
                ],
                cwd=self.directory, check=True, capture_output=True,
            )  # fmt: skip
        override = self.directory / "override.yaml"
        override.write_text(json.dumps(self._override()), encoding="utf-8")  # JSON is YAML
        self._secret = _read_secret(config)
        self._log = open(self.directory / "stdout.log", "ab")  # noqa: SIM115
        self.process = subprocess.Popen(
            [str(self.python), "-m", "synapse.app.homeserver", "-c", str(config), "-c", str(override)],
            cwd=self.directory, stdout=self._log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SynapseError(
                    f"Synapse exited with {self.process.returncode}:\n{self.log_tail()}"
                )
            try:
                with urllib.request.urlopen(f"{self.url}/_matrix/client/versions", timeout=2):
                    break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.1)
        else:
            self.stop()
            raise SynapseError(f"Synapse did not answer within {timeout} s:\n{self.log_tail()}")
        self.admin = self.register("admin", admin=True)

    def _override(self) -> dict[str, Any]:
        return {
            "listeners": [
                {
                    "port": self.port,
                    "bind_addresses": ["127.0.0.1"],
                    "type": "http",
                    "tls": False,
                    "x_forwarded": False,
                    "resources": [{"names": ["client", "media"], "compress": False}],
                }
            ],
            "trusted_key_servers": [],
            "presence": {"enabled": False},
            "suppress_key_server_warning": True,
            **_RATE_LIMITS,
        }

    def log_tail(self, lines: int = 40) -> str:
        text = ""
        for name in ("stdout.log", "homeserver.log"):
            path = self.directory / name
            if path.exists():
                text += "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) + "\n"
        return text

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
        if getattr(self, "_log", None) is not None:
            self._log.close()

    # -- admin API ---------------------------------------------------------------------------

    def request(self, method: str, path: str, body: Any = None, token: str | None = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(f"{self.url}{path}", data=data, method=method)
        req.add_header("Content-Type", "application/json")
        if token:
            req.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return json.loads(resp.read() or b"{}")
        except urllib.error.HTTPError as exc:
            raise SynapseError(f"{method} {path}: {exc.code} {exc.read()!r}") from exc

    def register(self, name: str, *, admin: bool = False, password: str | None = None) -> Account:
        """A user via the shared-secret admin API (HMAC-SHA1 over nonce, name, password)."""
        password = password or f"pw-{name}-{os.urandom(4).hex()}"
        nonce = self.request("GET", "/_synapse/admin/v1/register")["nonce"]
        mac = hmac.new(self._secret.encode(), digestmod=hashlib.sha1)
        mac.update(b"\x00".join([nonce.encode(), name.encode(), password.encode(),
                                 b"admin" if admin else b"notadmin"]))  # fmt: skip
        answer = self.request(
            "POST",
            "/_synapse/admin/v1/register",
            {"nonce": nonce, "username": name, "password": password, "admin": admin,
             "mac": mac.hexdigest()},
        )  # fmt: skip
        return Account(answer["user_id"], password, answer["access_token"], answer["device_id"])

    def exempt_from_rate_limit(self, user_id: str) -> None:
        """No message rate limit for this user (Synapse's per-user override, 0 = off)."""
        assert self.admin is not None
        self.request(
            "POST",
            f"/_synapse/admin/v1/users/{user_id}/override_ratelimit",
            {"messages_per_second": 0, "burst_count": 0},
            token=self.admin.access_token,
        )


def _read_secret(config: Path) -> str:
    for line in config.read_text(encoding="utf-8").splitlines():
        if line.startswith("registration_shared_secret:"):
            return line.split(":", 1)[1].strip().strip("\"'")
    raise SynapseError(f"{config} has no registration_shared_secret")
