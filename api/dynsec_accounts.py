"""Tracker MQTT logins through Mosquitto's dynamic security plugin, over MQTT.

The compose deployment's broker runs in its own container: the API cannot edit its password
and ACL files nor signal it. With the dynamic security plugin (``mosquitto_dynamic_security.so``,
shipped by eclipse-mosquitto 2 and Debian's ``mosquitto``) the API logs in as the plugin's
administrator and sends commands on ``$CONTROL/dynamic-security/v1``; the plugin answers on
``.../response``, stores the change in its JSON file and applies it at once. Each tracker gets a
client (username = device id, PBKDF2-hashed password) and a role of its own
(``siaga-tracker:<device_id>``) allowing only its topics::

    publishClientSend     siaga/v1/pos/<device_id>
    publishClientSend     siaga/v1/status/<device_id>
    subscribePattern      siaga/v1/gw/<device_id>/#
    publishClientReceive  siaga/v1/gw/<device_id>/#

Deleting the client disconnects a connected tracker, and it cannot log in again. Implements
:class:`tracking.mqtt_accounts.TrackerAccounts`; any failure is an :class:`AccountError`.
"""

from __future__ import annotations

import json
import secrets
import threading
import uuid
from typing import Any
from urllib.parse import unquote, urlparse

import paho.mqtt.client as mqtt

from tracking.mqtt_accounts import AccountError, MosquittoFileAccounts

CONTROL_TOPIC = "$CONTROL/dynamic-security/v1"
RESPONSE_TOPIC = CONTROL_TOPIC + "/response"
ROLE_PREFIX = "siaga-tracker:"
#: Answers meaning "already gone", accepted by :meth:`MosquittoDynsecAccounts.revoke`.
_GONE = ("not found",)


def tracker_acls(device_id: str) -> list[dict[str, Any]]:
    """The ACL entries of a tracker's role: its own position and status, its gateway commands."""
    return [
        {"acltype": "publishClientSend", "topic": f"siaga/v1/pos/{device_id}", "allow": True},
        {"acltype": "publishClientSend", "topic": f"siaga/v1/status/{device_id}", "allow": True},
        {"acltype": "subscribePattern", "topic": f"siaga/v1/gw/{device_id}/#", "allow": True},
        {"acltype": "publishClientReceive", "topic": f"siaga/v1/gw/{device_id}/#",
         "allow": True},
    ]


class MosquittoDynsecAccounts:
    """Tracker logins as dynamic security clients, managed by an admin login over MQTT.

    Parameters
    ----------
    admin_url
        ``mqtt://<admin>:<password>@<host>:<port>`` of a client holding the plugin's ``admin``
        role (``mosquitto_ctrl dynsec init``); the password may be percent-encoded.
    timeout_s
        How long to wait for the broker's answer, in seconds.
    """

    def __init__(self, admin_url: str, *, timeout_s: float = 10.0) -> None:
        parsed = urlparse(admin_url)
        if parsed.scheme not in ("mqtt", "tcp") or not parsed.username:
            raise AccountError("SIAGA_MQTT_DYNSEC_URL harus mqtt://admin:sandi@host:port / "
                               "must be mqtt://admin:password@host:port")
        self.host, self.port = parsed.hostname or "127.0.0.1", parsed.port or 1883
        self.username = unquote(parsed.username)
        self.password = unquote(parsed.password or "")
        self.timeout_s = timeout_s

    def provision(self, device_id: str) -> str:
        MosquittoFileAccounts.check_username(device_id)
        password = secrets.token_urlsafe(18)
        role = ROLE_PREFIX + device_id
        # A reset replaces the client: its old sessions are disconnected, its old password dies.
        self._send([{"command": "deleteClient", "username": device_id},
                    {"command": "deleteRole", "rolename": role}], tolerate=_GONE)
        self._send([
            {"command": "createRole", "rolename": role, "textname": f"Siaga tracker {device_id}",
             "acls": tracker_acls(device_id)},
            {"command": "createClient", "username": device_id, "password": password,
             "textname": f"Siaga tracker {device_id}", "roles": [{"rolename": role}]},
        ])
        return password

    def revoke(self, device_id: str) -> None:
        self._send([{"command": "deleteClient", "username": device_id},
                    {"command": "deleteRole", "rolename": ROLE_PREFIX + device_id}],
                   tolerate=_GONE)

    def _send(self, commands: list[dict[str, Any]], tolerate: tuple[str, ...] = ()) -> None:
        """Send ``commands`` in one request and check every answer (errors containing one of
        ``tolerate`` are accepted)."""
        tag = uuid.uuid4().hex
        for command in commands:
            command["correlationData"] = tag
        answers: list[dict[str, Any]] = []
        done, subscribed, refused = threading.Event(), threading.Event(), threading.Event()
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv311,
                             client_id=f"siaga-dynsec-{tag[:12]}", clean_session=True)
        client.username_pw_set(self.username, self.password)

        def on_connect(c, userdata, flags, reason_code, properties) -> None:  # noqa: ANN001
            if reason_code.is_failure:
                refused.set()
                done.set()
            else:
                c.subscribe(RESPONSE_TOPIC, qos=1)

        def on_message(c, userdata, msg) -> None:  # noqa: ANN001
            try:
                body = json.loads(msg.payload)
            except ValueError:
                return
            mine = [r for r in body.get("responses", []) if r.get("correlationData") == tag]
            answers.extend(mine)
            if len(answers) >= len(commands):
                done.set()

        client.on_connect = on_connect
        client.on_subscribe = lambda *a: subscribed.set()
        client.on_message = on_message
        try:
            client.connect(self.host, self.port)
        except OSError as exc:
            raise AccountError(f"Broker {self.host}:{self.port} tidak terjangkau / unreachable: "
                               f"{exc}") from exc
        client.loop_start()
        try:
            if subscribed.wait(self.timeout_s) and not refused.is_set():
                client.publish(CONTROL_TOPIC, json.dumps({"commands": commands}), qos=1)
            done.wait(self.timeout_s)
        finally:
            client.disconnect()
            client.loop_stop()
        if refused.is_set():
            raise AccountError(f"Login admin dynsec {self.username!r} ditolak broker / the "
                               f"dynamic security admin login was refused.")
        if len(answers) < len(commands):
            raise AccountError("Broker tidak menjawab perintah dynsec (plugin dimuat?) / no "
                               "answer to dynamic security commands (is the plugin loaded?)")
        errors = [f"{a.get('command')}: {a['error']}" for a in answers
                  if a.get("error") and not any(t in a["error"].lower() for t in tolerate)]
        if errors:
            raise AccountError("Perintah dynsec ditolak / dynamic security refused: "
                               + "; ".join(errors))
