"""The admin console's e-mail log: what the outbox sent, what waits, and what failed and why."""

from __future__ import annotations

from flask import Blueprint, request
from flask.typing import ResponseReturnValue
from sqlalchemy import func, select

from portal.admin import services
from portal.admin.forms import MailFilterForm
from portal.extensions import db
from portal.models import MailStatus, OutgoingMail
from portal.web import render

PAGE_SIZE = 50


def mail_counts() -> dict[MailStatus, int]:
    """How many e-mails wait and how many failed (the overview shows both)."""
    rows = db.session.execute(
        select(OutgoingMail.status, func.count(OutgoingMail.id))
        .where(OutgoingMail.status.in_([MailStatus.QUEUED, MailStatus.FAILED]))
        .group_by(OutgoingMail.status)
    ).all()
    counts = {MailStatus.QUEUED: 0, MailStatus.FAILED: 0}
    counts.update({status: int(count) for status, count in rows})
    return counts


def mail_log() -> ResponseReturnValue:
    form = MailFilterForm(formdata=request.args)
    status = (
        MailStatus(form.status.data) if form.status.data in {s.value for s in MailStatus} else None
    )
    page = services.mail_page(status=status, after=request.args.get("after"), size=PAGE_SIZE)
    query = {"status": status.value} if status is not None else {}
    return render("admin/mail.html", form=form, page=page, query=query)


def register_mail(bp: Blueprint) -> None:
    bp.add_url_rule("/mail", "mail", mail_log, methods=["GET"])
