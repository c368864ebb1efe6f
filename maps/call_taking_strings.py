"""Console strings of call taking (the keyboard-first call form, probable duplicates, the queue
and its alerts): key → (Bahasa Indonesia, English), merged into :data:`maps.i18n.STRINGS`."""

from __future__ import annotations

CALL_TAKING_STRINGS: dict[str, tuple[str, str]] = {
    "ct_new_call_key": ("F2 / Alt+N", "F2 / Alt+N"),
    "ct_callback": ("Telepon balik", "Call back"),
    "ct_keys_hint": ("Enter: simpan · Ctrl+Enter di uraian · ↑↓ + Enter: pilih tempat · "
                     "Alt+G: gabungkan ke kejadian yang sama · Esc: tutup saran",
                     "Enter: save · Ctrl+Enter in the description · ↑↓ + Enter: pick a place · "
                     "Alt+G: attach to the same incident · Esc: close suggestions"),
    "ct_dup_title": ("Mungkin kejadian yang sama", "Probably the same incident"),
    "ct_attach": ("Gabungkan panggilan ini ke #{id}", "Attach this call to #{id}"),
    "ct_attached": ("Panggilan digabungkan ke kejadian #{id}", "Call attached to incident #{id}"),
    "ct_created": ("Kejadian #{id} dibuat", "Incident #{id} created"),
    "ct_calls": ("panggilan tambahan", "further calls"),
    "ct_away": ("m dari titik", "m from the point"),
    "ev_call_attach": ("Panggilan tambahan", "Further call"),
    "ct_alert_breach": ("SLA terlampaui", "SLA breached"),
    "ct_alert_ack": ("belum konfirmasi", "has not acknowledged"),
    "ct_alert_escalated": ("Eskalasi", "Escalated"),
    "ct_alert_silence": ("Akui & senyapkan (Alt+K)", "Acknowledge & silence (Alt+K)"),
    "ct_left": ("sisa", "left"),
    "ct_overdue": ("lewat", "overdue"),
}
