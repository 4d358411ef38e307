"""Command-line tasks: `flask --app portal create-user`, `demo-admin`, `rotate-secrets`."""

from __future__ import annotations

import secrets
import sys
from pathlib import Path
from typing import NoReturn

import click
from email_validator import EmailNotValidError, validate_email
from flask import Flask, current_app
from sqlalchemy import select

from portal.auth import services as accounts
from portal.config import instance_secret
from portal.extensions import db
from portal.models import Organization, Role, TwoFactor

DEMO_ADMIN_EMAIL = "admin@portal.example"


@click.command("create-user")
@click.argument("email")
@click.option("--role", default=Role.MEMBER.value, show_default=True, help="member, staff or admin")
@click.option("--password", help="Without it, the password is asked for (hidden).")
def create_user_command(email: str, role: str, password: str | None) -> None:
    """Create a user who can log in at once."""
    roles = [choice.value for choice in Role]
    if role not in roles:
        _fail(f"unknown role {role!r}: use {', '.join(roles)}")
    try:
        validate_email(email, check_deliverability=False, test_environment=True)
    except EmailNotValidError:
        _fail(f"{email!r} is not an e-mail address")
    if password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user = accounts.create_user(email, password, Role(role))
    except accounts.AccountError as error:
        _fail(str(error))
    click.echo(f"Created {user.role.value} {user.email}")


def _fail(reason: str) -> NoReturn:
    click.echo(f"Error: {reason}", err=True)
    sys.exit(1)


@click.command("demo-admin")
def demo_admin_command() -> None:
    """Create the demo admin on first start and print how to log in (`make run` calls it; a
    production deployment creates its first admin with create-user instead)."""
    instance = Path(current_app.instance_path)
    password_file = instance / "demo-admin-password"
    if accounts.find_user(DEMO_ADMIN_EMAIL) is None:
        # The password is kept (owner-only) before the account exists: it is never lost.
        password = instance_secret(instance, password_file.name, lambda: secrets.token_urlsafe(12))
        accounts.create_user(DEMO_ADMIN_EMAIL, password, Role.ADMIN)
    if password_file.exists():
        click.echo(
            f"Demo admin: {DEMO_ADMIN_EMAIL} / password: {password_file.read_text().strip()}"
        )


@click.command("rotate-secrets")
def rotate_secrets_command() -> None:
    """Re-encrypt every integration secret and two-factor secret under the first of
    PORTAL_ENCRYPTION_KEYS."""
    box = current_app.extensions["secret_box"]
    organizations = db.session.scalars(select(Organization)).all()
    for organization in organizations:
        organization.integration_secret_encrypted = box.rotate(
            organization.integration_secret_encrypted
        )
    authenticators = db.session.scalars(select(TwoFactor)).all()
    for authenticator in authenticators:
        authenticator.secret_encrypted = box.rotate(authenticator.secret_encrypted)
    db.session.commit()
    click.echo(f"Re-encrypted {len(organizations)} integration secret(s).")
    click.echo(f"Re-encrypted {len(authenticators)} two-factor secret(s).")


def init_app(app: Flask) -> None:
    from portal.deposits.worker import worker_command

    for command in (
        create_user_command,
        demo_admin_command,
        rotate_secrets_command,
        worker_command,
    ):
        app.cli.add_command(command)
