"""What ``docker-compose.yml`` names exists: the env example with every variable the compose file
reads, the broker's config files, and the ACL grants the compose logins need."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
COMPOSE = (REPO / "docker-compose.yml").read_text()
#: Made on the server by deploy/mosquitto/make-passwd.sh (secrets, never in git).
GENERATED = {"deploy/mosquitto/passwd", "deploy/siaga.env"}


def test_every_deploy_file_the_compose_file_names_exists():
    named = set(re.findall(r"(?:\./)?(deploy/[\w./-]+)", COMPOSE))
    assert "deploy/siaga.env.example" in named
    missing = sorted(p for p in named - GENERATED if not (REPO / p).exists())
    assert missing == []


def test_the_env_example_lists_every_variable_the_compose_file_reads():
    used = set(re.findall(r"\$\{(\w+)", COMPOSE))
    example = (REPO / "deploy" / "siaga.env.example").read_text()
    listed = set(re.findall(r"^(\w+)=", example, re.MULTILINE))
    assert used and used <= listed, sorted(used - listed)


def test_the_acl_grants_what_the_compose_logins_do():
    acl = (REPO / "deploy" / "mosquitto" / "acl").read_text()
    blocks = {b.split("\n", 1)[0].split()[1]: b for b in re.split(r"\n(?=user )", acl)
              if b.startswith("user ")}
    for login in set(re.findall(r"mqtt://([\w-]+):", COMPOSE)) - {"siaga-dynsec"}:
        assert login in blocks, f"{login} has no ACL block"
    # The tracker-login administrator lives in the dynamic security plugin (its admin role),
    # never in the files: mqtt-init creates it in the plugin's file that mosquitto.conf loads.
    assert "siaga-dynsec" not in blocks
    conf = (REPO / "deploy" / "mosquitto" / "mosquitto.conf").read_text()
    dynsec_file = re.search(r"^plugin_opt_config_file (\S+)$", conf, re.MULTILINE).group(1)
    assert re.search(r"^plugin \S+/mosquitto_dynamic_security\.so$", conf, re.MULTILINE)
    assert f"dynsec init {dynsec_file} siaga-dynsec" in COMPOSE
    api = blocks["siaga-api"]
    assert re.search(r"^topic (readwrite|write) siaga/v1/events/#$", api, re.MULTILINE)
    assert re.search(r"^topic (readwrite|read) siaga/v1/events/#$", api, re.MULTILINE)
    ingest = blocks["siaga-ingest"]
    for topic in ("siaga/v1/pos/#", "siaga/v1/status/#", "owntracks/#"):
        assert re.search(rf"^topic (read|readwrite) {re.escape(topic)}$", ingest, re.MULTILINE)
    assert "pattern write siaga/v1/pos/%u" in acl and "topic write siaga/v1/pos/#" not in (
        acl.split("user siaga-bridge")[0])
