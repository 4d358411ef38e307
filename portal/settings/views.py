"""Account settings (`Settings` in every page's menu), and the unsubscribe links of e-mails."""

from __future__ import annotations

from flask import Blueprint, abort, flash, url_for
from flask.typing import ResponseReturnValue
from flask_babel import refresh
from flask_login import current_user, login_required, logout_user

from portal.auth import two_factor
from portal.auth.forms import EmptyForm
from portal.catalogue import gettext as _
from portal.extensions import csrf
from portal.mail import unsubscribe as links
from portal.settings import services
from portal.settings.forms import SettingsForm
from portal.settings.two_factor import register_two_factor
from portal.web import redirect_to, render

bp = Blueprint("settings", __name__, url_prefix="/settings")
register_two_factor(bp)


def _page(form: SettingsForm, status: int = 200) -> ResponseReturnValue:
    return render(
        "settings/index.html",
        form=form,
        sessions_form=EmptyForm(),
        two_factor=two_factor.state(current_user),
    ), status


@bp.get("/")
@login_required
def index() -> ResponseReturnValue:
    form = SettingsForm(formdata=None, obj=current_user)
    form.locale.data = current_user.locale or ""
    return _page(form)


@bp.post("/")
@login_required
def save() -> ResponseReturnValue:
    form = SettingsForm()
    if not form.validate_on_submit():
        return _page(form, 422)
    changed = services.save(
        current_user,
        notifications={name: bool(getattr(form, name).data) for name in form.NOTIFICATIONS},
        locale=form.locale.data,
    )
    refresh()  # the confirmation speaks the language just chosen
    flash(_("Your settings are saved.") if changed else _("Nothing changed."), "success")
    return redirect_to(url_for("settings.index"))


@bp.post("/sessions/end")
@login_required
def end_sessions() -> ResponseReturnValue:
    if not EmptyForm().validate_on_submit():
        abort(400)
    services.sign_out_everywhere(current_user)
    logout_user()
    flash(_("You are signed out on every device, this one included."), "info")
    return redirect_to(url_for("auth.login"))


def _request(token: str) -> links.Unsubscription:
    return links.read(token) or abort(404)


@bp.get("/unsubscribe/<token>")
def unsubscribe(token: str) -> ResponseReturnValue:
    # Following the link only asks: mail scanners open links, and must not unsubscribe anyone.
    asked = _request(token)
    return render("settings/unsubscribe.html", token=token, setting=asked.setting, done=False)


@bp.post("/unsubscribe/<token>")
@csrf.exempt  # RFC 8058: the mail client posts once, with no session; the signed token is the proof
def unsubscribe_now(token: str) -> ResponseReturnValue:
    asked = _request(token)
    if services.unsubscribe(asked) is None:
        abort(404)
    return render("settings/unsubscribe.html", token=token, setting=asked.setting, done=True)
