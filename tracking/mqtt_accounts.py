"""MQTT logins of individual trackers: Mosquitto's password file and ACL file, then a reload.

The port is :class:`TrackerAccounts` (``provision`` returns a new password, ``revoke`` removes
the login); :class:`MosquittoFileAccounts` implements it for the shipped broker
(``deploy/mosquitto``): the login is written with ``mosquitto_passwd -b`` (hashed; the Debian
``mosquitto`` package ships the tool) and an ACL block of the device's own topics is kept between
marker lines in the ACL file::

    # siaga-tracker begin <device_id>
    user <device_id>
    topic write siaga/v1/pos/<device_id>
    topic write siaga/v1/status/<device_id>
    topic read siaga/v1/gw/<device_id>/#
    # siaga-tracker end <device_id>

then the broker is told to re-read both files: SIGHUP to the pid in ``pid_file`` (same host or
container), or ``reload_command`` (e.g. ``docker compose kill -s HUP mqtt`` across containers).
On a reload Mosquitto 2 re-checks connected clients, so a revoked tracker is disconnected and
cannot log in again. Edits are serialised with an exclusive lock on ``<passwd>.lock``.
"""

from __future__ import annotations

import fcntl
import os
import re
import secrets
import shlex
import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol

from tracking.exceptions import TrackingError

#: A username Mosquitto's files can hold and that is one topic level (see the ACL patterns).
_USERNAME_RE = re.compile(r"^[^+#/:\x00-\x1f\x7f-\x9f]{1,128}$")
_BEGIN, _END = "# siaga-tracker begin ", "# siaga-tracker end "


class AccountError(TrackingError):
    """The broker's login files could not be changed or the broker not reloaded."""


class TrackerAccounts(Protocol):
    """Where tracker logins live (a broker's files, or a broker's admin API)."""

    def provision(self, device_id: str) -> str:
        """Create or reset the login ``device_id``; return its new password."""
        ...

    def revoke(self, device_id: str) -> None:
        """Remove the login ``device_id`` (no error if it does not exist)."""
        ...


def acl_block(device_id: str) -> str:
    """The ACL lines of one tracker: its own position and status topics, its gateway commands."""
    return (f"{_BEGIN}{device_id}\nuser {device_id}\n"
            f"topic write siaga/v1/pos/{device_id}\n"
            f"topic write siaga/v1/status/{device_id}\n"
            f"topic read siaga/v1/gw/{device_id}/#\n"
            f"{_END}{device_id}\n")


def without_block(acl_text: str, device_id: str) -> str:
    """``acl_text`` without the tracker's block (unchanged if it has none)."""
    out, skipping = [], False
    for line in acl_text.splitlines(keepends=True):
        if line.rstrip("\n") == f"{_BEGIN}{device_id}":
            skipping = True
        elif skipping and line.rstrip("\n") == f"{_END}{device_id}":
            skipping = False
        elif not skipping:
            out.append(line)
    return "".join(out)


class MosquittoFileAccounts:
    """Tracker logins in a Mosquitto password file + ACL file, reloaded after each change.

    Parameters
    ----------
    passwd_path, acl_path
        The files named by ``password_file`` and ``acl_file`` in the broker's configuration.
    pid_file
        The broker's pid file: a change is followed by SIGHUP to that process.
    reload_command
        Instead of ``pid_file``: a command run after each change (split like a shell would).
    """

    def __init__(self, passwd_path: Path, acl_path: Path, *, pid_file: Path | None = None,
                 reload_command: str | None = None, passwd_tool: str = "mosquitto_passwd"
                 ) -> None:
        self.passwd_path, self.acl_path = Path(passwd_path), Path(acl_path)
        self.pid_file, self.reload_command = pid_file, reload_command
        self.passwd_tool = passwd_tool

    @staticmethod
    def check_username(device_id: str) -> None:
        if not _USERNAME_RE.match(device_id) or device_id != device_id.strip():
            raise AccountError(
                f"Id pelacak {device_id!r} tidak bisa menjadi login MQTT (tanpa + # / : atau "
                f"spasi di tepi) / tracker id {device_id!r} cannot be an MQTT login "
                f"(no + # / :, no leading or trailing spaces).")

    @contextmanager
    def _locked(self) -> Iterator[None]:
        lock_path = self.passwd_path.with_name(self.passwd_path.name + ".lock")
        with open(lock_path, "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _passwd(self, *args: str) -> None:
        try:
            done = subprocess.run([self.passwd_tool, *args], capture_output=True, text=True,
                                  timeout=30, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise AccountError(f"{self.passwd_tool} gagal / failed: {exc}") from exc
        if done.returncode != 0:
            raise AccountError(f"{self.passwd_tool} gagal / failed: "
                               f"{(done.stderr or done.stdout).strip()}")

    def _write_acl(self, device_id: str, add: bool) -> None:
        text = self.acl_path.read_text(encoding="utf-8") if self.acl_path.exists() else ""
        text = without_block(text, device_id)
        if add:
            text = (text if not text or text.endswith("\n") else text + "\n") + acl_block(device_id)
        tmp = self.acl_path.with_name(self.acl_path.name + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, self.acl_path)

    def reload(self) -> None:
        """Tell the broker to re-read its password and ACL files."""
        if self.reload_command:
            try:
                done = subprocess.run(shlex.split(self.reload_command), capture_output=True,
                                      text=True, timeout=30, check=False)
            except (OSError, subprocess.TimeoutExpired) as exc:
                raise AccountError(f"Perintah muat ulang gagal / reload command failed: {exc}") \
                    from exc
            if done.returncode != 0:
                raise AccountError("Perintah muat ulang gagal / reload command failed: "
                                   f"{(done.stderr or done.stdout).strip()}")
            return
        if self.pid_file is None:
            return
        try:
            pid = int(Path(self.pid_file).read_text().strip())
            os.kill(pid, signal.SIGHUP)
        except (OSError, ValueError) as exc:
            raise AccountError(f"Broker tidak bisa dimuat ulang (pid {self.pid_file}) / the "
                               f"broker could not be reloaded: {exc}") from exc

    def provision(self, device_id: str) -> str:
        self.check_username(device_id)
        password = secrets.token_urlsafe(18)
        with self._locked():
            if not self.passwd_path.exists():
                self.passwd_path.touch(mode=0o600)
            self._passwd("-b", str(self.passwd_path), device_id, password)
            self._write_acl(device_id, add=True)
            self.reload()
        return password

    def revoke(self, device_id: str) -> None:
        with self._locked():
            if self.passwd_path.exists() and _has_user(self.passwd_path, device_id):
                self._passwd("-D", str(self.passwd_path), device_id)
            self._write_acl(device_id, add=False)
            self.reload()


def _has_user(passwd_path: Path, username: str) -> bool:
    prefix = f"{username}:"
    return any(line.startswith(prefix)
               for line in passwd_path.read_text(encoding="utf-8").splitlines())
