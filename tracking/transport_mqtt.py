"""The default ingest transport: one MQTT broker (Mosquitto), paho-mqtt 2.x, MQTT v5.

Fixed client id, clean start off and a session expiry interval, so the broker queues what is
published while the worker is down; optional shared subscription (``$share/<group>/...``, see
``IngestConfig.shared_group`` for its limit with Mosquitto 2.0 broker restarts). Messages are
acknowledged manually (``manual_ack=True`` + ``client.ack(mid, qos)``) and only on the connection
that delivered them: a PUBACK for a message id of an earlier connection would acknowledge another
message, so those are skipped and the broker redelivers them.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from urllib.parse import unquote, urlparse

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.subscribeoptions import SubscribeOptions

from tracking.batch import Message
from tracking.ingest_config import IngestConfig
from tracking.transport import Deliver

log = logging.getLogger("siaga.tracking.ingest")


class MqttTransport:
    """:class:`tracking.transport.Transport` over one MQTT broker."""

    def __init__(self, config: IngestConfig) -> None:
        self.config = config
        self.ready = threading.Event()
        self._deliver: Deliver | None = None
        self._generation = 0
        # Acks never cross a connection: the generation changes (under this lock) on connect and
        # disconnect, and a message is acked only on the connection that delivered it.
        self._ack_lock = threading.Lock()
        self._client = self._make_client()
        self._started = False

    def _make_client(self) -> mqtt.Client:
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=self.config.client_id,
                             protocol=mqtt.MQTTv5, manual_ack=True)
        url = urlparse(self.config.mqtt_url)
        if url.username:  # percent-encoded in the URL (a password may hold '@' or ':')
            client.username_pw_set(unquote(url.username),
                                   None if url.password is None else unquote(url.password))
        client.on_connect = self._on_connect
        client.on_message = self._on_message
        client.on_disconnect = self._on_disconnect
        client.on_subscribe = self._on_subscribe
        client.reconnect_delay_set(min_delay=1, max_delay=5)
        client.max_inflight_messages_set(1000)  # our event publishes (QoS 1)
        return client

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            log.error("MQTT connection refused: %s", reason_code)
            return
        with self._ack_lock:
            self._generation += 1
        log.info("MQTT connected (session present: %s)", flags.session_present)
        options = SubscribeOptions(qos=1)
        client.subscribe([(topic, options) for topic in self.config.subscriptions()])

    def _on_subscribe(self, client, userdata, mid, reason_codes, properties) -> None:
        failed = [rc for rc in reason_codes if rc.is_failure]
        if failed:
            log.error("MQTT subscription refused: %s", failed)
        else:
            self.ready.set()

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:
        with self._ack_lock:
            self._generation += 1
        self.ready.clear()
        if self._started:
            log.warning("MQTT disconnected (%s); reconnecting", reason_code)

    def _on_message(self, client, userdata, message) -> None:
        try:
            topic = message.topic
        except UnicodeDecodeError:  # brokers validate UTF-8; keep the message rejectable anyway
            topic = message._topic.decode("utf-8", "backslashreplace")  # noqa: SLF001
        assert self._deliver is not None
        self._deliver(topic, message.payload, message.mid, message.qos, self._generation)

    # -- Transport ------------------------------------------------------------------------------
    def start(self, deliver: Deliver) -> None:
        """Connect (non-blocking) and start the network thread."""
        self._deliver = deliver
        url = urlparse(self.config.mqtt_url)
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = self.config.session_expiry_s
        props.ReceiveMaximum = self.config.receive_maximum
        self._started = True
        self._client.connect_async(url.hostname or "127.0.0.1", url.port or 1883,
                                   keepalive=self.config.keepalive_s, clean_start=False,
                                   properties=props)
        self._client.loop_start()

    def ack(self, messages: Sequence[Message]) -> int:
        skipped = 0
        with self._ack_lock:
            current = self._generation
            ack = self._client.ack
            for message in messages:
                if message.qos > 0:
                    if message.generation == current:
                        ack(message.mid, message.qos)
                    else:
                        skipped += 1
        return skipped

    def publish(self, topic: str, payload: bytes) -> None:
        self._client.publish(topic, payload, qos=1)

    def close(self) -> None:
        self._started = False
        self._client.disconnect()
        self._client.loop_stop()
