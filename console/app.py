"""The application factory: extensions, blueprints, error handlers, security, CLI."""

from __future__ import annotations

from pathlib import Path

from flask import Flask, request
from werkzeug.middleware.proxy_fix import ProxyFix

from console import assets, database, errors, logs, metrics, security, templating
from console.blueprints import (
    admin,
    alerts,
    api,
    auth,
    filings,
    health,
    imports,
    orders,
    queues,
    search,
    settings,
    stages,
    supervisor,
    webhooks,
)
from console.config import ConfigError, load_config
from console.converters import CONVERTERS
from console.extensions import compress, csrf, db, htmx, login_manager, migrate
from console.overload import Shedder, limit_from_environment
from console.services.monitoring import schema_heads

MIGRATIONS = str(Path(__file__).resolve().parent.parent / "migrations")


def create_app(config: dict | None = None) -> Flask:
    """Build the console. ``config`` overrides the environment (tests, the demo command)."""
    app = Flask(__name__, instance_relative_config=True)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.from_mapping(load_config(app.instance_path, config))
    app.url_map.converters.update(CONVERTERS)  # before any blueprint names them
    _configure_logging(app)
    app.before_request(_limit_body)  # first: CSRF checking reads the body
    _register_extensions(app)
    _register_blueprints(app)
    _register_security(app)
    _register_errorhandlers(app)
    _register_templates(app)
    _register_cli(app)
    _register_operations(app)
    _trust_proxies(app)
    _shed_load(app)
    return app


def _shed_load(app: Flask) -> None:
    """Under gunicorn (gunicorn.conf.py sets CONSOLE_MAX_IN_FLIGHT): excess requests get 503 at once."""
    limit = app.config.get("MAX_IN_FLIGHT", limit_from_environment())
    if limit:
        app.wsgi_app = Shedder(app.wsgi_app, limit)


def _trust_proxies(app: Flask) -> None:
    """Behind N reverse proxies (CONSOLE_TRUSTED_PROXIES), take the client's address and scheme from
    the last N X-Forwarded-* hops, so that throttling and the audit log see the real client."""
    hops = app.config.get("TRUSTED_PROXIES", 0)
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)


#: Endpoints that accept larger bodies than MAX_CONTENT_LENGTH (1 MiB): file uploads.
UPLOAD_LIMITS = {"imports.upload": 9 * 1024 * 1024}


def _limit_body() -> None:
    limit = UPLOAD_LIMITS.get(request.endpoint or "")
    if limit:
        request.max_content_length = limit


def _configure_logging(app: Flask) -> None:
    # First among the request hooks: every request is timed and logged, refused ones included.
    logs.configure(app)
    metrics.init_app(app)


def _register_operations(app: Flask) -> None:
    """Check the metrics settings; remember what /readyz compares the database's schema with."""
    try:
        metrics.allowed_networks()
    except ValueError as exc:
        raise ConfigError(f"CONSOLE_METRICS_ALLOW must be addresses or networks separated by commas: {exc}") from None
    app.extensions["schema_heads"] = schema_heads(MIGRATIONS)


def _register_extensions(app: Flask) -> None:
    db.init_app(app)
    migrate.init_app(app, db, directory=MIGRATIONS, render_as_batch=True, compare_type=True,
                     render_item=database.render_item)
    csrf.init_app(app)
    htmx.init_app(app)
    login_manager.init_app(app)
    compress.init_app(app)
    assets.init_app(app)


def _register_blueprints(app: Flask) -> None:
    for module in (api, auth, health, queues, search, orders, stages, imports, supervisor, settings, alerts, admin,
                   webhooks, filings):
        app.register_blueprint(module.bp)
    csrf.exempt(api.bp)  # bearer-token API: no cookies, no CSRF


def _register_security(app: Flask) -> None:
    security.init_app(app)


def _register_errorhandlers(app: Flask) -> None:
    errors.init_app(app)


def _register_templates(app: Flask) -> None:
    templating.init_app(app)


def _register_cli(app: Flask) -> None:
    from console import cli  # cli builds apps with create_app: importing it at the top is a cycle

    for command in cli.APP_COMMANDS:
        app.cli.add_command(command)
