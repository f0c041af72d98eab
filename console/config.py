"""Configuration from the environment, failing fast where a production setting is missing."""

from __future__ import annotations

import os
import secrets
from pathlib import Path


class ConfigError(RuntimeError):
    """A setting the console cannot start without."""


def _flag(name: str, default: str = "off") -> bool:
    return os.environ.get(name, default).strip().lower() in {"1", "on", "true", "yes"}


MAKE_KEY = "python -c 'import secrets; print(secrets.token_urlsafe(48))'"
MIN_SECRET_LENGTH = 32
#: Values seen in tutorials and templates; a key that is one of them (any case) is as good as public.
WEAK_SECRETS = frozenset({
    "secret", "secret_key", "secret-key", "secretkey", "changeme", "change-me", "change_me", "dev", "development",
    "default", "password", "test", "testing", "x", "key", "flask", "console", "icp-console", "please-change-me",
    "your-secret-key", "your_secret_key", "supersecret", "super-secret", "notsecret", "insecure",
})


def secret_key_problem(secret: str) -> str | None:
    """Why ``secret`` cannot sign production sessions, or None."""
    stripped = secret.strip()
    if stripped.lower() in WEAK_SECRETS or len(set(stripped)) < 8:
        return "is a well-known or trivially guessable value"
    if len(stripped) < MIN_SECRET_LENGTH:
        return f"is shorter than {MIN_SECRET_LENGTH} characters"
    return None


def load_config(instance_path: str, overrides: dict | None = None) -> dict:
    """Settings for ``create_app``: environment first, then the caller's ``overrides``.

    ``CONSOLE_MODE`` is ``production`` (default), ``demo`` or ``testing``. Outside demo and testing
    a missing ``CONSOLE_SECRET_KEY`` is an error; the demo keeps a generated key in the instance
    folder so that sign-ins survive a restart.
    """
    overrides = dict(overrides or {})
    mode = overrides.pop("MODE", None) or os.environ.get("CONSOLE_MODE") or "production"
    if mode not in {"production", "demo", "testing"}:
        raise ConfigError(f"CONSOLE_MODE must be production, demo or testing, not {mode!r}")
    database_url = os.environ.get("CONSOLE_DATABASE_URL") or (
        "sqlite:///" + str(Path(instance_path) / "console.sqlite")
    )
    secret = os.environ.get("CONSOLE_SECRET_KEY", "")
    if mode == "production" and "SECRET_KEY" not in overrides and secret:
        problem = secret_key_problem(secret)
        if problem:
            raise ConfigError(f"CONSOLE_SECRET_KEY {problem}. Make one with: {MAKE_KEY}")
    if not secret and "SECRET_KEY" not in overrides:
        if mode == "production":
            raise ConfigError(
                "CONSOLE_SECRET_KEY is not set. Set it to a long random value "
                f"({MAKE_KEY}), "
                "or run `icp-console demo` for a local demo."
            )
        secret = _instance_secret(instance_path) if mode == "demo" else secrets.token_urlsafe(32)
    config = {
        "MODE": mode,
        "SECRET_KEY": secret,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "SCHEDULER_ENABLED": _flag("CONSOLE_SCHEDULER"),
        "SMTP_URL": os.environ.get("CONSOLE_SMTP_URL", ""),
        "TRUSTED_PROXIES": _count("CONSOLE_TRUSTED_PROXIES"),
        # Web requests: a statement running longer is cancelled (PostgreSQL). The CLI sets 0
        # (migrations and bulk seeding may take minutes).
        "STATEMENT_TIMEOUT_MS": _number("CONSOLE_STATEMENT_TIMEOUT_MS", 15_000),
        "MAX_CONTENT_LENGTH": 1024 * 1024,  # portal bodies; imports raise it per view
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": mode == "production",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "WTF_CSRF_TIME_LIMIT": None,  # the token lives as long as the session
        "WTF_I18N_ENABLED": False,  # WTForms' own Chinese messages (console.forms.Form), no Babel
        "COMPRESS_ALGORITHM": ["br", "gzip"],
        "COMPRESS_MIMETYPES": ["text/html", "text/css", "application/javascript", "text/javascript",
                               "application/json", "text/csv", "image/svg+xml", "text/plain"],
        # Open queue pages ask for their rows again this often (an ETag poll; 0 turns it off).
        "QUEUE_POLL_SECONDS": _number("CONSOLE_QUEUE_POLL_SECONDS", 15),
        # Webhooks: a delivery is retried for this long, each POST waits this long for an answer.
        "WEBHOOK_RETRY_HOURS": _number("CONSOLE_WEBHOOK_RETRY_HOURS", 24),
        "WEBHOOK_TIMEOUT_SECONDS": _number("CONSOLE_WEBHOOK_TIMEOUT_SECONDS", 10),
        "WTF_CSRF_SSL_STRICT": mode == "production",
        "TESTING": mode == "testing",
    }
    config.update(overrides)
    _apply_statement_timeout(config)
    return config


def _instance_secret(instance_path: str) -> str:
    path = Path(instance_path) / "secret_key"
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    path.write_text(key)
    path.chmod(0o600)
    return key


def _count(name: str) -> int:
    """A small non-negative integer setting (0 when unset)."""
    raw = os.environ.get(name, "").strip() or "0"
    if not raw.isdigit() or int(raw) > 10:
        raise ConfigError(f"{name} must be a number of proxy hops from 0 to 10, not {raw!r}")
    return int(raw)


def _number(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit():
        raise ConfigError(f"{name} must be a whole number, not {raw!r}")
    return int(raw)


def _apply_statement_timeout(config: dict) -> None:
    """PostgreSQL sessions: the statement timeout, and the time zone named ``UTC``.

    Every time column is ``timestamptz``, so the session's zone changes no stored value; but for a
    zone named exactly ``UTC`` psycopg returns ``datetime.timezone.utc`` instead of a ZoneInfo, and
    UTCDateTime then passes values through instead of converting each (a queue page reads 150)."""
    if not str(config["SQLALCHEMY_DATABASE_URI"]).startswith("postgresql"):
        return
    timeout = config.get("STATEMENT_TIMEOUT_MS") or 0
    options = dict(config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    connect_args = dict(options.get("connect_args") or {})
    settings = "-c TimeZone=UTC" + (f" -c statement_timeout={int(timeout)}" if timeout else "")
    connect_args["options"] = settings
    options["connect_args"] = connect_args
    config["SQLALCHEMY_ENGINE_OPTIONS"] = options
