"""Sign in, register, sign out."""

from __future__ import annotations

import math
from urllib.parse import urlsplit

from flask import Blueprint, Response, flash, make_response, redirect, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required, login_user, logout_user

from portal import audit
from portal.auth import devices, pending, resets, services, sessions, two_factor
from portal.auth.forms import (
    EmptyForm,
    ForgotPasswordForm,
    LoginForm,
    RegisterForm,
    ResetPasswordForm,
    SecondStepForm,
)
from portal.catalogue import gettext as _
from portal.catalogue import ngettext
from portal.extensions import htmx, limiter, login_manager
from portal.models import User
from portal.web import redirect_to, render, safe_next

bp = Blueprint("auth", __name__)

SIGN_IN_LIMIT = "10 per minute;100 per hour"
# Per connection; per account, resets.MAX_LINKS_PER_HOUR (counted in the database) applies too.
RESET_REQUEST_LIMIT = "5 per minute;30 per hour"


@login_manager.user_loader
def load_user(session_key: str) -> User | None:
    return sessions.user_for(session_key)


@login_manager.unauthorized_handler
def unauthorized() -> ResponseReturnValue:
    flash(_("Please log in to continue."), "info")
    # An htmx request (a polling status cell) gets a full-page redirect, never a login form
    # swapped into a table cell.
    # After signing in, go back to the page, not to the fragment a polling cell asked for.
    came_from = htmx.current_url if htmx else request.full_path.rstrip("?")
    return redirect_to(url_for("auth.login", next=_local_part(came_from)))


def _local_part(url: str | None) -> str | None:
    if not url:
        return None
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


@bp.get("/login")
def login() -> ResponseReturnValue:
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    return render("auth/login.html", form=LoginForm())


@bp.post("/login")
@limiter.limit(SIGN_IN_LIMIT)
def login_submit() -> ResponseReturnValue:
    form = LoginForm()
    if form.validate_on_submit():
        known = devices.signed_in_here_before(services.find_user(form.email.data))
        try:
            user = services.sign_in(
                form.email.data, form.password.data, source=request.remote_addr, known_device=known
            )
        except services.SignInThrottled as throttled:
            form.form_errors.append(_throttled_words(throttled))
            return _throttled(render("auth/login.html", form=form), throttled)
        if user is not None and services.has_second_factor(user):
            pending.hold(user)  # not signed in yet: the code comes first
            return redirect_to(url_for("auth.second_step", next=request.args.get("next")))
        if user is not None:
            return _signed_in(user)
        form.form_errors.append(_("Wrong e-mail or password, or the account is deactivated."))
    return render("auth/login.html", form=form), 422


def _throttled_words(throttled: services.SignInThrottled) -> str:
    minutes = max(1, math.ceil(throttled.retry_after / 60))
    return ngettext(
        "Too many failed attempts for this account from this connection. Wait "
        "%(num)d minute and try again, or ask an administrator to reset your "
        "password.",
        "Too many failed attempts for this account from this connection. Wait "
        "%(num)d minutes and try again, or ask an administrator to reset your "
        "password.",
        minutes,
    )


def _throttled(page: Response, throttled: services.SignInThrottled) -> Response:
    page.status_code = 429
    page.headers["Retry-After"] = str(throttled.retry_after)
    return page


def _signed_in(user: User) -> Response:
    """Start the user's session and send them where they were going."""
    login_user(sessions.start(user))
    response = make_response(redirect_to(safe_next(request.args.get("next"))))
    devices.remember_device(response, user)
    return response


def _held_or_login() -> User | Response:
    """The user the code page is for, or the way back to the password step."""
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    asked = pending.PENDING_KEY in session
    user = pending.held_user()
    if user is not None:
        return user
    if asked:
        flash(
            _("Signing in took more than 5 minutes, or the account changed: log in again."), "info"
        )
    return redirect_to(url_for("auth.login", next=request.args.get("next")))


@bp.get("/login/code")
def second_step() -> ResponseReturnValue:
    held = _held_or_login()
    if isinstance(held, Response):
        return held
    return render("auth/second_step.html", form=SecondStepForm())


@bp.post("/login/code")
@limiter.limit(SIGN_IN_LIMIT)
def second_step_submit() -> ResponseReturnValue:
    held = _held_or_login()
    if isinstance(held, Response):
        return held
    form = SecondStepForm()
    if form.validate_on_submit():
        try:
            accepted = two_factor.sign_in_with_code(
                held,
                form.code.data,
                source=request.remote_addr,
                known_device=devices.signed_in_here_before(held),
            )
        except services.SignInThrottled as throttled:
            form.form_errors.append(_throttled_words(throttled))
            return _throttled(render("auth/second_step.html", form=form), throttled)
        if accepted:
            pending.drop()
            return _signed_in(held)
        form.code.errors = [
            _(
                "This code is not right, or was already used. Type the code your app shows "
                "now, or a recovery code you have not used."
            )
        ]
    return render("auth/second_step.html", form=form), 422


@bp.get("/register")
def register() -> ResponseReturnValue:
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    return render("auth/register.html", form=RegisterForm())


@bp.post("/register")
@limiter.limit(SIGN_IN_LIMIT)
def register_submit() -> ResponseReturnValue:
    form = RegisterForm()
    if form.validate_on_submit():
        try:
            user = services.create_user(form.email.data, form.password.data, registered=True)
        except services.AccountError:
            form.email.errors.append(
                _("An account already exists for this e-mail. Log in instead.")
            )
        else:
            login_user(sessions.start(user))
            flash(_("Welcome! Connect your organization to start depositing invoices."), "success")
            return redirect_to(url_for("organizations.index"))
    return render("auth/register.html", form=form), 422


@bp.post("/logout")
@login_required
def logout() -> ResponseReturnValue:
    if EmptyForm().validate_on_submit():
        audit.record(audit.SIGN_OUT, actor=current_user)
        sessions.end(current_user)  # commits: the cookie copied before now signs nobody in
        logout_user()
        flash(_("You are logged out."), "info")
    return redirect_to(url_for("auth.login"))


@bp.get("/forgot-password")
def forgot_password() -> ResponseReturnValue:
    return render("auth/forgot_password.html", form=ForgotPasswordForm())


@bp.post("/forgot-password")
@limiter.limit(RESET_REQUEST_LIMIT)
def forgot_password_submit() -> ResponseReturnValue:
    form = ForgotPasswordForm()
    if not form.validate_on_submit():
        return render("auth/forgot_password.html", form=form), 422
    resets.request_link(form.email.data)
    # The same words whether or not an account uses the address: they reveal nothing.
    flash(
        _(
            "If an account uses %(email)s, a link to choose a new password is on its way. It "
            "works once, for one hour.",
            email=form.email.data.strip(),
        ),
        "info",
    )
    return redirect_to(url_for("auth.login"))


@bp.get("/reset-password/<token>")
def reset_password(token: str) -> ResponseReturnValue:
    if resets.usable(token) is None:
        return render("auth/reset_password.html", form=None), 410
    return render("auth/reset_password.html", form=ResetPasswordForm(), token=token)


@bp.post("/reset-password/<token>")
@limiter.limit(SIGN_IN_LIMIT)
def reset_password_submit(token: str) -> ResponseReturnValue:
    form = ResetPasswordForm()
    if not form.validate_on_submit():
        status = 422 if resets.usable(token) else 410
        return render(
            "auth/reset_password.html", form=form if status == 422 else None, token=token
        ), status
    if resets.change_password(token, form.password.data) is None:
        return render("auth/reset_password.html", form=None), 410
    if current_user.is_authenticated:
        logout_user()  # its session ended with the others
    flash(
        _(
            "Your password is changed, and every session of the account has ended. Log in with the new password."
        ),
        "success",
    )
    return redirect_to(url_for("auth.login"))
