"""Notifications to the OPD standby lines against real services: a real SMTP server (aiosmtpd),
a real HTTP webhook receiver checking the signature, and a Gammu SMSD spool directory; written in
the escalation's transaction, delivered after it, retried, given up with an audit entry."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select
from sqlalchemy.orm import sessionmaker

from api.notify import NotifyConfig, deliver_due
from dispatch import assignment_service as asg
from dispatch import incident_service as svc
from dispatch import notification_service as ns
from dispatch.escalation_service import check_escalations
from dispatch.exceptions import RegionNotFound
from dispatch.models import AuditLog
from dispatch.notification_models import Notification
from dispatch.notifications import MAX_ATTEMPTS
from dispatch.scope import Scope
from dispatch.scoping import EVERYTHING
from tests.integration.api.live_server import free_port
from tests.integration.dispatch.test_incident_flow_services import T0, new_fire, unit

SECRET = "damkar-standby-secret-01"


class _Mailbox:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], bytes]] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd hook
        self.messages.append((list(envelope.rcpt_tos), envelope.content))
        return "250 OK"


@pytest.fixture
def smtp():
    box = _Mailbox()
    port = free_port()
    ctl = Controller(box, hostname="127.0.0.1", port=port)
    ctl.start()
    try:
        yield box, port
    finally:
        ctl.stop()


@pytest.fixture
def webhook():
    got: list[tuple[dict, bytes]] = []
    fail_paths = {"/down"}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server hook
            body = self.rfile.read(int(self.headers["Content-Length"]))
            got.append((dict(self.headers), body))
            self.send_response(500 if self.path in fail_paths else 204)
            self.end_headers()

        def log_message(self, *args):  # quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield got, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()


def test_escalation_reaches_email_sms_and_webhook(seeded, dispatch_config, geocoder, smtp,
                                                  webhook, tmp_path):
    s = seeded
    box, smtp_port = smtp
    hooks, base = webhook
    spool = tmp_path / "outbox"
    spool.mkdir()
    scope = Scope.of(["34.71"])
    for kind, target, secret in (("email", "piket@damkar.jogjakota.go.id", None),
                                 ("sms", "+6281234567890", None),
                                 ("webhook", f"{base}/ok", SECRET),
                                 ("webhook", f"{base}/down", SECRET)):
        ns.add_channel(s, scope=scope, kode_kab="34.71", actor="admin", now=T0,
                       channel=ns.ChannelInput("DAMKAR", kind, target, secret))
    i = new_fire(s, dispatch_config, geocoder)
    svc.triage_incident(s, i.id, config=dispatch_config, actor="op1", now=T0, scope=EVERYTHING)
    asg.assign_unit(s, i.id, unit(s, "YK-DAMKAR-01").id, config=dispatch_config, actor="op1",
                    now=T0, scope=EVERYTHING)
    # an escalation whose transaction is rolled back notifies no one
    before = s.scalar(select(func.count()).select_from(Notification))
    nested = s.begin_nested()
    check_escalations(s, config=dispatch_config, kode_kab="34.71", scope=EVERYTHING,
                      now=T0 + timedelta(minutes=3))
    nested.rollback()
    assert s.scalar(select(func.count()).select_from(Notification)) == before
    out = check_escalations(s, config=dispatch_config, kode_kab="34.71", scope=EVERYTHING,
                            now=T0 + timedelta(minutes=3))
    assert [e.agency for e in out.value] == ["DAMKAR"]
    s.flush()

    sessions = sessionmaker(bind=s.connection(), join_transaction_mode="create_savepoint",
                            expire_on_commit=False)
    cfg = NotifyConfig(smtp_host="127.0.0.1", smtp_port=smtp_port, sms_spool_dir=str(spool))
    at = T0 + timedelta(minutes=3)
    counts = deliver_due(sessions, cfg, now=at)
    # assignment + escalation, four channels each; the /down webhook fails both
    assert counts == {"sent": 6, "failed": 2}

    subjects = [content for _to, content in box.messages]
    assert len(box.messages) == 2 and all(to == ["piket@damkar.jogjakota.go.id"]
                                          for to, _ in box.messages)
    assert any(b"ESKALASI" in c for c in subjects)
    files = sorted(p.name for p in spool.iterdir())
    assert len(files) == 2 and all(f.startswith("OUTA") and "_+6281234567890_siaga" in f
                                   for f in files)
    assert any("ESKALASI 112: DAMKAR" in (spool / f).read_text() for f in files)
    ok = [(h, b) for h, b in hooks if json.loads(b)["kind"] in ("assignment", "escalation")]
    assert len(ok) == 4  # two to /ok, two to /down
    for headers, body in ok:
        want = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        assert headers["X-Siaga-Signature-256"] == want
        assert json.loads(body)["incident_id"] == i.id

    # the failing webhook is retried with back-off, then given up and audited
    later = at
    for _ in range(MAX_ATTEMPTS):
        later += timedelta(hours=1)
        deliver_due(sessions, cfg, now=later)
    rows = ns.deliveries(s, scope=scope, incident_id=i.id)
    down = [d for d in rows if d.target.endswith("/down")]
    assert {d.status for d in down} == {"failed"} and {d.attempts for d in down} == {MAX_ATTEMPTS}
    assert all("HTTP 500" in (d.last_error or "") for d in down)
    assert {d.status for d in rows if not d.target.endswith("/down")} == {"sent"}
    phone = next(d.target for d in rows if d.channel == "sms")
    assert phone == "+628*******890"  # masked for the console
    failed_audits = s.scalar(select(func.count()).select_from(AuditLog).where(
        AuditLog.entity == "notification", AuditLog.action == "delivery_failed"))
    assert failed_audits == 2
    # nothing is sent twice
    assert deliver_due(sessions, cfg, now=later + timedelta(days=1)) == {"sent": 0, "failed": 0}


def test_channels_are_validated_and_scoped(seeded):
    s = seeded
    scope = Scope.of(["34.71"])
    for channel in (ns.ChannelInput("DAMKAR", "sms", "12ab"),
                    ns.ChannelInput("DAMKAR", "email", "not-an-address"),
                    ns.ChannelInput("DAMKAR", "webhook", "https://x.go.id/h"),  # no secret
                    ns.ChannelInput("NOSUCH", "sms", "+628123456789"),
                    ns.ChannelInput("DAMKAR", "pager", "123")):
        with pytest.raises(ns.ChannelInvalid):
            ns.add_channel(s, scope=scope, kode_kab="34.71", channel=channel, actor="a", now=T0)
    with pytest.raises(RegionNotFound):
        ns.add_channel(s, scope=Scope.of(["51.06"]), kode_kab="34.71", actor="a", now=T0,
                       channel=ns.ChannelInput("DAMKAR", "sms", "+628123456789"))
