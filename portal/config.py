"""Reads the PORTAL_* environment once into typed settings, with defaults that make `make run` work."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from cryptography.fernet import Fernet

from portal.deposits.storage.settings import S3Settings
from portal.mail.transport import SmtpSettings
from portal.oneconnect import spec
from portal.sandbox import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_SCOPE

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_INSTANCE_DIR = PROJECT_ROOT / "instance"
SANDBOX_MOUNT = "/sandbox"

# Requests carry at most one invoice (5 MB) and one entries JSON (5 MB) plus form fields.
MAX_REQUEST_BYTES = spec.MAX_FILE_BYTES + spec.MAX_ENTRIES_BYTES + 2_000_000
# Files deposited at once from one form, each its own deposit.
MAX_FILES = 50
# The deposit form posted without script carries every chosen file at once (streamed to disk).
MAX_FORM_BYTES = MAX_FILES * spec.MAX_FILE_BYTES + spec.MAX_ENTRIES_BYTES + 2_000_000
# The embedded demo's local mailbox listens where aiosmtpd usually does.
DEFAULT_MAILBOX_PORT = 8025


@dataclass(frozen=True)
class OneConnectSettings:
    api_base: str
    token_url: str
    jwks_url: str
    client_id: str
    client_secret: str
    scope: str
    embedded: bool


def read_environment(environ: Mapping[str, str] | None = None) -> dict[str, object]:
    """The PORTAL_* variables as Flask config keys; absent ones are left to `complete_config`."""
    env = os.environ if environ is None else environ
    config: dict[str, object] = {"PORT": int(env.get("PORT") or 5000)}
    names = {
        "PORTAL_DATABASE_URL": "SQLALCHEMY_DATABASE_URI",
        "PORTAL_SECRET_KEY": "SECRET_KEY",
        "PORTAL_ENCRYPTION_KEYS": "ENCRYPTION_KEYS",
        "PORTAL_STORAGE_DIR": "STORAGE_DIR",
        "PORTAL_STORAGE_URL": "STORAGE_URL",
        "PORTAL_S3_ENDPOINT_URL": "S3_ENDPOINT_URL",
        "PORTAL_S3_REGION": "S3_REGION",
        "PORTAL_S3_ACCESS_KEY_ID": "S3_ACCESS_KEY_ID",
        "PORTAL_S3_SECRET_ACCESS_KEY": "S3_SECRET_ACCESS_KEY",
        "PORTAL_ONECONNECT_API_BASE": "ONECONNECT_API_BASE",
        "PORTAL_ONECONNECT_TOKEN_URL": "ONECONNECT_TOKEN_URL",
        "PORTAL_ONECONNECT_JWKS_URL": "ONECONNECT_JWKS_URL",
        "PORTAL_ONECONNECT_CLIENT_ID": "ONECONNECT_CLIENT_ID",
        "PORTAL_ONECONNECT_CLIENT_SECRET": "ONECONNECT_CLIENT_SECRET",
        "PORTAL_ONECONNECT_SCOPE": "ONECONNECT_SCOPE",
        "PORTAL_RATELIMIT_STORAGE_URI": "RATELIMIT_STORAGE_URI",
        "PORTAL_SMTP_URL": "SMTP_URL",
        "PORTAL_SMTP_CA_FILE": "SMTP_CA_FILE",
        "PORTAL_MAIL_FROM": "MAIL_FROM",
        "PORTAL_BASE_URL": "BASE_URL",
        "PORTAL_LOG_LEVEL": "LOG_LEVEL",
        "PORTAL_METRICS_TOKEN": "METRICS_TOKEN",
    }
    if env.get("PORTAL_DEFAULT_LOCALE"):
        config["DEFAULT_LOCALE"] = _locale_setting(env["PORTAL_DEFAULT_LOCALE"])
    if env.get("PORTAL_PROXY_HOPS"):
        config["PROXY_HOPS"] = int(env["PORTAL_PROXY_HOPS"])
    if env.get("PORTAL_MAILBOX_PORT"):
        config["MAILBOX_PORT"] = int(env["PORTAL_MAILBOX_PORT"])
    for variable, (key, kind) in _NUMBERS.items():
        if env.get(variable):
            config[key] = _number_setting(variable, env[variable], kind)
    if env.get("PORTAL_SENDER", "").lower() == "external":
        config["SENDER_IN_PROCESS"] = False  # `flask --app portal worker` processes send
    if "PORTAL_TWO_FACTOR_REQUIRED" in env:  # set, even empty: the operator chose
        config["TWO_FACTOR_REQUIRED"] = env["PORTAL_TWO_FACTOR_REQUIRED"]
    if env.get("PORTAL_SECURE_COOKIES"):
        secure = env["PORTAL_SECURE_COOKIES"].lower() in {"1", "true", "yes"}
        config["SESSION_COOKIE_SECURE"] = config["REMEMBER_COOKIE_SECURE"] = secure
    for variable, key in names.items():
        if env.get(variable):
            config[key] = env[variable]
    return config


# Numeric settings read from the environment: the sender's timing (README, "Configuration").
_NUMBERS: dict[str, tuple[str, type[int] | type[float]]] = {
    "PORTAL_SENDER_LEASE_SECONDS": ("SENDER_LEASE_SECONDS", float),
    "PORTAL_RETRY_MAX_SECONDS": ("RETRY_MAX_SECONDS", float),
    "PORTAL_DELIVERY_WINDOW_HOURS": ("DELIVERY_WINDOW_HOURS", float),
}


def _number_setting(variable: str, value: str, kind: type[int] | type[float]) -> int | float:
    try:
        number = kind(value)
    except ValueError:
        raise ValueError(f"{variable} must be a number, not {value!r}") from None
    if not number > 0:
        raise ValueError(f"{variable} must be greater than 0, not {value!r}")
    return number


_ROLES = ("member", "staff", "admin")


def two_factor_roles(value: object, embedded: bool) -> frozenset[str]:
    """The roles that must sign in with a second factor: PORTAL_TWO_FACTOR_REQUIRED (roles,
    comma-separated), else staff and admins against the real OneConnect and nobody in the
    embedded demo (whose accounts, made by `create-user`, sign in with a password alone)."""
    if value is None:
        return frozenset() if embedded else frozenset({"staff", "admin"})
    if isinstance(value, str):
        names: list[object] = list(value.split(","))
    elif isinstance(value, Iterable):
        names = list(value)
    else:
        raise ValueError(f"PORTAL_TWO_FACTOR_REQUIRED must be roles, not {value!r}")
    roles = frozenset(str(name).strip().lower() for name in names if str(name).strip())
    if unknown := roles - set(_ROLES):
        raise ValueError(
            f"PORTAL_TWO_FACTOR_REQUIRED names unknown roles {sorted(unknown)}: use "
            f"{', '.join(_ROLES)}, comma-separated"
        )
    return roles


def _locale_setting(value: str) -> str:
    locale = value.strip().lower()
    if locale not in ("fr", "en"):
        raise ValueError(f"PORTAL_DEFAULT_LOCALE must be fr or en, not {value!r}")
    return locale


def instance_secret(instance_dir: Path, name: str, make: Callable[[], str]) -> str:
    """A secret kept in `instance/<name>`, generated on first use and readable by its owner only."""
    path = instance_dir / name
    if path.exists():
        return path.read_text().strip()
    instance_dir.mkdir(parents=True, exist_ok=True)
    value = make()
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(value + "\n")
    return value


def complete_config(config: dict[str, object], instance_dir: Path) -> None:
    """Fill every setting not given, generating secrets into `instance_dir` when absent."""
    config.setdefault("SQLALCHEMY_DATABASE_URI", f"sqlite:///{instance_dir / 'portal.sqlite3'}")
    if not config.get("SECRET_KEY"):
        config["SECRET_KEY"] = instance_secret(
            instance_dir, "secret_key", lambda: secrets.token_urlsafe(48)
        )
    if not config.get("ENCRYPTION_KEYS"):
        config["ENCRYPTION_KEYS"] = instance_secret(
            instance_dir, "encryption_keys", lambda: Fernet.generate_key().decode()
        )
    config.setdefault("STORAGE_DIR", str(instance_dir / "deposits"))
    # send_file resolves relative paths against the package, the store against the cwd.
    config["STORAGE_DIR"] = str(Path(str(config["STORAGE_DIR"])).resolve())
    if config.get("STORAGE_URL"):  # the bucket, instead of STORAGE_DIR
        S3Settings.from_config(config)  # raises ValueError for a malformed URL or settings
    config.setdefault("ONECONNECT_API_BASE", None)
    embedded = not config["ONECONNECT_API_BASE"]
    local = f"http://127.0.0.1:{config.get('PORT', 5000)}{SANDBOX_MOUNT}"
    defaults = {
        "ONECONNECT_API_BASE": f"{local}/v1" if embedded else None,
        "ONECONNECT_TOKEN_URL": f"{local}/oauth2/token" if embedded else spec.PRODUCTION_TOKEN_URL,
        "ONECONNECT_JWKS_URL": f"{local}/.well-known/jwks.json"
        if embedded
        else spec.PRODUCTION_JWKS_URL,
        "ONECONNECT_CLIENT_ID": DEFAULT_CLIENT_ID,
        "ONECONNECT_CLIENT_SECRET": DEFAULT_CLIENT_SECRET,
        "ONECONNECT_SCOPE": DEFAULT_SCOPE,
    }
    for key, value in defaults.items():
        if not config.get(key):
            config[key] = value
    config["ONECONNECT_EMBEDDED"] = embedded
    config["TWO_FACTOR_REQUIRED"] = two_factor_roles(config.get("TWO_FACTOR_REQUIRED"), embedded)
    # Against the real OneConnect the portal is served over HTTPS: its cookies travel encrypted
    # only, unless PORTAL_SECURE_COOKIES says otherwise; the embedded demo runs on plain HTTP.
    if config.get("SESSION_COOKIE_SECURE") is None:  # None: not chosen (BASE_CONFIG)
        config["SESSION_COOKIE_SECURE"] = not embedded
    if config.get("REMEMBER_COOKIE_SECURE") is None:
        config["REMEMBER_COOKIE_SECURE"] = config["SESSION_COOKIE_SECURE"]
    config["SANDBOX_CONSOLE_PATH"] = f"{SANDBOX_MOUNT}/"
    config.setdefault("SANDBOX_DATABASE_URL", f"sqlite:///{instance_dir / 'sandbox.sqlite3'}")
    _complete_mail_config(config, embedded)


def _complete_mail_config(config: dict[str, object], embedded: bool) -> None:
    """The mail server (PORTAL_SMTP_URL, else the local mailbox the embedded demo starts), the
    sender address and the base of the links e-mails carry. A malformed URL stops the start."""
    config.setdefault("MAILBOX_PORT", DEFAULT_MAILBOX_PORT)
    # Whether the operator named a mail server; without one, the embedded demo runs its own.
    config["SMTP_CONFIGURED"] = bool(config.get("SMTP_URL"))
    config["MAILBOX_EMBEDDED"] = not config["SMTP_CONFIGURED"] and embedded
    if not config.get("SMTP_URL"):
        # Port 0 (tests) is a free port the mailbox takes when it starts; it then sets SMTP_URL.
        config["SMTP_URL"] = f"smtp://127.0.0.1:{config['MAILBOX_PORT']}"
    SmtpSettings.from_url(str(config["SMTP_URL"]))  # raises ValueError for a malformed URL
    if not config.get("MAIL_FROM"):
        config["MAIL_FROM"] = "portal@localhost"
    if not config.get("BASE_URL"):
        config["BASE_URL"] = f"http://127.0.0.1:{config.get('PORT', 5000)}"
    config["BASE_URL"] = str(config["BASE_URL"]).rstrip("/")


def oneconnect_settings(config: Mapping[str, object]) -> OneConnectSettings:
    return OneConnectSettings(
        api_base=str(config["ONECONNECT_API_BASE"]).rstrip("/"),
        token_url=str(config["ONECONNECT_TOKEN_URL"]),
        jwks_url=str(config["ONECONNECT_JWKS_URL"]),
        client_id=str(config["ONECONNECT_CLIENT_ID"]),
        client_secret=str(config["ONECONNECT_CLIENT_SECRET"]),
        scope=str(config["ONECONNECT_SCOPE"]),
        embedded=bool(config["ONECONNECT_EMBEDDED"]),
    )


# Settings every deployment shares; tests and the environment override them.
BASE_CONFIG: dict[str, object] = {
    "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
    "MAX_CONTENT_LENGTH": MAX_REQUEST_BYTES,
    # Chosen in complete_config (Secure against the real OneConnect) unless set.
    "SESSION_COOKIE_SECURE": None,
    "REMEMBER_COOKIE_SECURE": None,
    # Roles that must use two-factor sign-in; None: chosen in complete_config.
    "TWO_FACTOR_REQUIRED": None,
    "MAX_FORM_BYTES": MAX_FORM_BYTES,
    # Seconds one invoice photo may take Tesseract (the sender reads one at a time).
    "OCR_TIMEOUT": 20.0,
    # The entries JSON travels as a form field and may reach the upstream's own 5 MB limit.
    "MAX_FORM_MEMORY_SIZE": spec.MAX_ENTRIES_BYTES + 500_000,
    # Each entry line posts ~15 fields; Werkzeug's default of 1,000 parts would cap the editor.
    "MAX_FORM_PARTS": 20_000,
    # Dates and times are shown as French companies live them.
    "BABEL_DEFAULT_TIMEZONE": "Europe/Paris",
    # An accountant may keep the editor open for hours: the token lives as long as the session.
    "WTF_CSRF_TIME_LIMIT": None,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "REMEMBER_COOKIE_HTTPONLY": True,
    "REMEMBER_COOKIE_SAMESITE": "Lax",
    # French first (the portal's users are French); PORTAL_DEFAULT_LOCALE may say otherwise.
    "DEFAULT_LOCALE": "fr",
    "BABEL_DEFAULT_LOCALE": "fr",
    "BABEL_TRANSLATION_DIRECTORIES": str(PROJECT_ROOT / "portal" / "translations"),
    "RATELIMIT_STORAGE_URI": "memory://",
    "RATELIMIT_HEADERS_ENABLED": True,
    "HISTORY_PAGE_SIZE": 25,
    "ONECONNECT_CONNECT_TIMEOUT": 3.05,
    "ONECONNECT_READ_TIMEOUT": 30.0,
    "SANDBOX_DECISION_DELAY": 3.0,
    "STATUS_POLL_SECONDS": 3,
    # The first attempt is made while the user waits: it ends within these seconds, token fetch
    # included, and the sender retries if it must.
    "FIRST_ATTEMPT_SECONDS": 10.0,
    # A sender's claim on a deposit: if the sender dies, another takes the deposit over once
    # this has passed. Each attempt ends a few seconds before its lease does.
    "SENDER_LEASE_SECONDS": 30.0,
    # Retries wait longer and longer, up to this; once OneConnect answers again, the waiting
    # deposits of that integration are pulled forward.
    "RETRY_MAX_SECONDS": 900.0,
    # How long a deposit is retried before it is given up as Failed.
    "DELIVERY_WINDOW_HOURS": 24.0,
    "SENDER_IN_PROCESS": True,
    # Proxies (load balancers) in front of the portal whose X-Forwarded-* headers are trusted.
    "PROXY_HOPS": 0,
    "SENDER_POLL_SECONDS": 2.0,
    # E-mail: PORTAL_SMTP_URL, or the embedded demo's local mailbox on this port
    # (PORTAL_MAILBOX_PORT changes it, 0 takes a free port).
    "SMTP_URL": None,
    "SMTP_TIMEOUT": 10.0,
    "SMTP_CA_FILE": None,
    "MAILBOX_PORT": DEFAULT_MAILBOX_PORT,
    "MAIL_FROM": None,
    "BASE_URL": None,
    # JSON log lines on stdout at this level and above (PORTAL_LOG_LEVEL).
    "LOG_LEVEL": "INFO",
    # /metrics answers only with `Authorization: Bearer <this>`; unset, it is not published.
    "METRICS_TOKEN": None,
}


def secrets_of(config: Mapping[str, object]) -> list[str]:
    """The configured secrets, which no log line may carry (they are masked if one tries)."""
    values = [
        config.get("SECRET_KEY"),
        config.get("ONECONNECT_CLIENT_SECRET"),
        config.get("S3_SECRET_ACCESS_KEY"),
        config.get("METRICS_TOKEN"),
        *str(config.get("ENCRYPTION_KEYS") or "").split(","),
    ]
    smtp = str(config.get("SMTP_URL") or "")
    if "@" in smtp and ":" in smtp.split("@")[0].split("//")[-1]:
        values.append(smtp.split("@")[0].split("//")[-1].split(":", 1)[1])
    return [str(value).strip() for value in values if value]
