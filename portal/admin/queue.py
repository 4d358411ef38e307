"""The admin console's delivery queue action: send every waiting deposit now, without waiting
for the end of each one's backoff (after an outage, or once a fault upstream is put right)."""

from __future__ import annotations

from flask import Blueprint, flash, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from portal import audit
from portal.auth.forms import EmptyForm
from portal.catalogue import ngettext
from portal.deposits import delivery
from portal.extensions import db
from portal.web import redirect_to


def send_waiting_now() -> ResponseReturnValue:
    if EmptyForm().validate_on_submit():
        pulled = delivery.pull_forward()
        audit.record(audit.QUEUE_SENT_NOW, actor=current_user, detail={"deposits": pulled})
        db.session.commit()
        flash(
            ngettext(
                "%(num)d waiting deposit goes to OneConnect in the next moments.",
                "%(num)d waiting deposits go to OneConnect in the next moments.",
                pulled,
            ),
            "success",
        )
    return redirect_to(url_for("admin.index"))


def register_queue(bp: Blueprint) -> None:
    bp.add_url_rule("/queue/send-now", "send_waiting_now", send_waiting_now, methods=["POST"])
