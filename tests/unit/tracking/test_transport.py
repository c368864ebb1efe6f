"""MQTT topic <-> NATS subject mapping of the JetStream transport (pure, tracking.transport)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from tracking.transport import filter_to_subject, subject_to_topic, topic_to_subject

# topic levels as devices use them: no empty level, no space, no wildcard, no '/'
LEVEL = st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126,
                                       blacklist_characters="/+#*>"),
                min_size=1, max_size=12)


def test_topics_become_the_subjects_nats_server_uses() -> None:
    assert topic_to_subject("siaga/v1/pos/bpbd-01") == "siaga.v1.pos.bpbd-01"
    assert topic_to_subject("siaga/v1/pos/bpbd.01") == "siaga.v1.pos.bpbd//01"
    assert subject_to_topic("siaga.v1.pos.bpbd//01") == "siaga/v1/pos/bpbd.01"
    assert subject_to_topic("owntracks.budi.hp") == "owntracks/budi/hp"


def test_filters() -> None:
    assert filter_to_subject("siaga/v1/pos/+") == "siaga.v1.pos.*"
    assert filter_to_subject("t1/owntracks/+/+") == "t1.owntracks.*.*"
    assert filter_to_subject("siaga/#") == "siaga.>"


@given(st.lists(LEVEL, min_size=1, max_size=6))
def test_a_topic_survives_the_round_trip(levels: list[str]) -> None:
    topic = "/".join(levels)
    subject = topic_to_subject(topic)
    assert subject_to_topic(subject) == topic
    assert len(subject.split(".")) == len(levels)  # one token per level, dots escaped


def test_the_workers_consumer_reads_what_the_mqtt_listeners_stored() -> None:
    """The durable consumer filters nats-server's own QoS 1 stream, with the topic prefix."""
    from tracking.ingest_config import IngestConfig
    from tracking.transport_jetstream import JetStreamTransport

    plain = JetStreamTransport(IngestConfig(mqtt_url="mqtt://unused"), ["nats://127.0.0.1:1"])
    assert plain.stream == "$MQTT_msgs"
    assert plain.filter_subject() == "$MQTT.msgs.>"
    prefixed = JetStreamTransport(IngestConfig(mqtt_url="mqtt://unused", topic_prefix="t1/",
                                               client_id="w"), ["nats://127.0.0.1:1"],
                                  ack_wait_s=12.0)
    consumer = prefixed.consumer_config()
    assert consumer.filter_subject == "$MQTT.msgs.t1.>"
    assert (consumer.durable_name, consumer.ack_wait) == ("w", 12.0)
    assert consumer.ack_policy.value == "explicit"
