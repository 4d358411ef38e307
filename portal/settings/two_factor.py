"""Two-factor sign-in in Settings: enrol with a QR code, recovery codes, turning it off; and the
rule sending staff and admins who must use it (PORTAL_TWO_FACTOR_REQUIRED) to enrol first."""

from __future__ import annotations

import math

from flask import Blueprint, Response, flash, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

from portal.auth import services as accounts
from portal.auth import totp, two_factor
from portal.catalogue import gettext as _
from portal.catalogue import ngettext
from portal.settings.forms import (
    EnableTwoFactorForm,
    RenewRecoveryCodesForm,
    TurnOffTwoFactorForm,
)
from portal.web import redirect_to, render

# What a user who must enrol can still reach: the enrolment itself, signing out, the language
# switch, static files, and pages that need no sign-in.
_REACHABLE_BEFORE_ENROLMENT = {
    "static",
    "main.language",
    "main.healthz",
    "main.favicon",
    "webhooks.one_connect",
    "settings.two_factor",
    "settings.enable_two_factor",
    "settings.unsubscribe",
    "settings.unsubscribe_now",
    "settings.end_sessions",
}


def require_enrolment() -> ResponseReturnValue | None:
    """Send a signed-in user whose role requires two-factor sign-in to enrol, from any page."""
    endpoint = request.endpoint
    if endpoint is None or endpoint in _REACHABLE_BEFORE_ENROLMENT or endpoint.startswith("auth."):
        return None
    if not current_user.is_authenticated or not two_factor.required_for(current_user):
        return None
    if accounts.has_second_factor(current_user):
        return None
    return redirect_to(url_for("settings.two_factor"))


def _private(response: Response) -> Response:
    # The secret and the recovery codes must not stay in any cache, nor come back with Back.
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _enrolment_page(form: EnableTwoFactorForm, status: int = 200) -> Response:
    enrolment = two_factor.start_enrolment(current_user)
    page = render(
        "settings/two_factor.html",
        state=two_factor.state(current_user),
        enrolment=enrolment,
        qr_code=totp.qr_svg(enrolment.uri, _("QR code to scan with your authenticator app")),
        issuer=totp.ISSUER,
        form=form,
    )
    page.status_code = status
    return _private(page)


def _status_page(
    renew_form: RenewRecoveryCodesForm | None = None,
    off_form: TurnOffTwoFactorForm | None = None,
    status: int = 200,
) -> Response:
    page = render(
        "settings/two_factor.html",
        state=two_factor.state(current_user),
        renew_form=renew_form or RenewRecoveryCodesForm(prefix="renew"),
        off_form=off_form or TurnOffTwoFactorForm(prefix="off"),
    )
    page.status_code = status
    return page


def _codes_page(codes: list[str]) -> Response:
    return _private(render("settings/recovery_codes.html", codes=codes))


def _throttled_words(throttled: accounts.SignInThrottled) -> str:
    minutes = max(1, math.ceil(throttled.retry_after / 60))
    return ngettext(
        "Too many wrong codes or passwords. Wait %(num)d minute and try again.",
        "Too many wrong codes or passwords. Wait %(num)d minutes and try again.",
        minutes,
    )


def _wrong_proof() -> str:
    return _("This is neither a current code from your app nor your password.")


@login_required
def show() -> ResponseReturnValue:
    if accounts.has_second_factor(current_user):
        return _status_page()
    return _enrolment_page(EnableTwoFactorForm())


@login_required
def enable() -> ResponseReturnValue:
    form = EnableTwoFactorForm()
    if not form.validate_on_submit():
        return _enrolment_page(form, 422)
    try:
        codes = two_factor.confirm_enrolment(current_user, form.code.data)
    except two_factor.AlreadyEnabled:
        return redirect_to(url_for("settings.two_factor"))
    except two_factor.WrongCode:
        form.code.errors = [
            _(
                "This is not the code the app shows now. Check that you scanned this page's QR "
                "code, that the phone's time is right, and type the newest code."
            )
        ]
        return _enrolment_page(form, 422)
    return _codes_page(codes)


@login_required
def renew_codes() -> ResponseReturnValue:
    if not accounts.has_second_factor(current_user):
        return redirect_to(url_for("settings.two_factor"))
    form = RenewRecoveryCodesForm(prefix="renew")
    if not form.validate_on_submit():
        return _status_page(renew_form=form, status=422)
    try:
        codes = two_factor.renew_recovery_codes(
            current_user, form.proof.data, source=request.remote_addr
        )
    except two_factor.WrongCode:
        form.proof.errors = [_wrong_proof()]
        return _status_page(renew_form=form, status=422)
    except accounts.SignInThrottled as throttled:
        form.proof.errors = [_throttled_words(throttled)]
        return _status_page(renew_form=form, status=429)
    return _codes_page(codes)


@login_required
def turn_off() -> ResponseReturnValue:
    if not accounts.has_second_factor(current_user):
        return redirect_to(url_for("settings.two_factor"))
    form = TurnOffTwoFactorForm(prefix="off")
    if not form.validate_on_submit():
        return _status_page(off_form=form, status=422)
    try:
        two_factor.turn_off(current_user, form.proof.data, source=request.remote_addr)
    except two_factor.StillRequired:
        form.form_errors.append(_("Two-factor sign-in is required for your role: it stays on."))
        return _status_page(off_form=form, status=422)
    except two_factor.WrongCode:
        form.proof.errors = [_wrong_proof()]
        return _status_page(off_form=form, status=422)
    except accounts.SignInThrottled as throttled:
        form.proof.errors = [_throttled_words(throttled)]
        return _status_page(off_form=form, status=429)
    flash(_("Two-factor sign-in is off: your password alone signs you in."), "info")
    return redirect_to(url_for("settings.index"))


def register_two_factor(bp: Blueprint) -> None:
    """The pages under /settings/two-factor, and the enrolment rule on every page."""
    bp.add_url_rule("/two-factor", "two_factor", show, methods=["GET"])
    bp.add_url_rule("/two-factor", "enable_two_factor", enable, methods=["POST"])
    bp.add_url_rule(
        "/two-factor/recovery-codes", "renew_recovery_codes", renew_codes, methods=["POST"]
    )
    bp.add_url_rule("/two-factor/off", "turn_off_two_factor", turn_off, methods=["POST"])
    bp.before_app_request(require_enrolment)
