"""Choosing the tracker login store from the settings, and a dynsec tracker role's ACL."""

from __future__ import annotations

from pathlib import Path

import pytest

from api.dynsec_accounts import MosquittoDynsecAccounts, tracker_acls
from api.registry_accounts import tracker_accounts
from api.settings import Settings
from dispatch.registry_errors import ProvisioningError
from tracking.mqtt_accounts import MosquittoFileAccounts


def _settings(**values) -> Settings:
    return Settings(_env_file=None, **values)


def test_the_password_files_stay_the_default() -> None:
    files = _settings(mqtt_passwd_file=Path("/tmp/passwd"), mqtt_acl_file=Path("/tmp/acl"),
                      mqtt_dynsec_url="mqtt://siaga-dynsec:x@mqtt:1883")
    assert files.mqtt_logins == "files"
    assert isinstance(tracker_accounts(files), MosquittoFileAccounts)
    assert tracker_accounts(_settings()) is None


def test_dynsec_is_selected_by_the_setting() -> None:
    accounts = tracker_accounts(_settings(mqtt_logins="dynsec",
                                          mqtt_dynsec_url="mqtt://siaga-dynsec:a%40b@mqtt:1884"))
    assert isinstance(accounts, MosquittoDynsecAccounts)
    assert (accounts.host, accounts.port, accounts.username, accounts.password) == (
        "mqtt", 1884, "siaga-dynsec", "a@b")
    assert tracker_accounts(_settings(mqtt_logins="dynsec")) is None  # not configured
    with pytest.raises(ProvisioningError, match="mqtt://admin:password@host:port"):
        tracker_accounts(_settings(mqtt_logins="dynsec", mqtt_dynsec_url="http://mqtt"))


def test_a_tracker_role_allows_only_its_own_topics() -> None:
    acls = tracker_acls("862104056789012")
    assert {(a["acltype"], a["topic"]) for a in acls if a["allow"]} == {
        ("publishClientSend", "siaga/v1/pos/862104056789012"),
        ("publishClientSend", "siaga/v1/status/862104056789012"),
        ("subscribePattern", "siaga/v1/gw/862104056789012/#"),
        ("publishClientReceive", "siaga/v1/gw/862104056789012/#"),
    }
    assert not any("+" in a["topic"] or a["topic"].startswith("siaga/v1/pos/#") for a in acls)


def test_a_wildcard_device_id_is_refused_before_the_broker_is_asked() -> None:
    from tracking.mqtt_accounts import AccountError

    accounts = MosquittoDynsecAccounts("mqtt://siaga-dynsec:x@127.0.0.1:9")
    with pytest.raises(AccountError, match="cannot be an MQTT login"):
        accounts.provision("siaga/#")
