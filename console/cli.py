"""The ``icp-console`` command (a Flask CLI group, so ``flask --app wsgi …`` works as well)."""

from __future__ import annotations

import json
import os
import random
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import click
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext
from flask_migrate import upgrade
from sqlalchemy import func, select
from werkzeug.serving import run_simple

from console.app import create_app
from console.config import ConfigError
from console.domain.roles import Role
from console.extensions import db
from console.models import Order
from console.services import accounts
from console.services.bulk_seed import seed_bulk
from console.services.demo import ensure_demo_users, other_users, seed
from console.services.errors import ServiceError
from console.services.tokens import create_token
from jobs.scheduler import run_forever, start_in_process
from jobs.tasks import sweep_once


def _create_app():
    # A local run with no database configured is a demo on the embedded SQLite file.
    try:
        cli_config = {"STATEMENT_TIMEOUT_MS": 0}  # migrations and bulk work may run long
        if not os.environ.get("CONSOLE_MODE") and not os.environ.get("CONSOLE_DATABASE_URL"):
            return create_app({"MODE": "demo", **cli_config})
        return create_app(cli_config)
    except ConfigError as exc:  # one line that says what is missing, not a traceback
        raise click.ClickException(str(exc)) from None


cli = FlaskGroup(create_app=_create_app, add_version_option=False,
                 help="备案审核台: the ICP access-filing review console.")


#: Up to this many orders go through the use cases one by one (findings, calls, mailing rounds);
#: more take the bulk path (console.services.bulk_seed), which writes a million in minutes.
DETAILED_MAX = 2_000


@click.command("seed")
@click.option("--orders", "count", type=click.IntRange(1, 10_000_000), default=300, show_default=True)
@click.option("--random-seed", type=int, default=None, help="Same seed, same data.")
@click.option("--bulk/--detailed", "bulk", default=None,
              help=f"Bulk path (default above {DETAILED_MAX:,} orders) or one order at a time through the use cases.")
@with_appcontext
def seed_command(count: int, random_seed: int | None, bulk: bool | None) -> None:
    """Create demo orders in every state (with a progress bar); never in production."""
    if current_app.config["MODE"] == "production":
        raise click.ClickException("seed writes demo users and orders: it refuses a production configuration "
                                   "(CONSOLE_MODE=production). Use a demo or test database.")
    bulk = count > DETAILED_MAX if bulk is None else bulk
    started = time.monotonic()
    with click.progressbar(length=count, label="生成演示订单" + ("（批量）" if bulk else ""), file=sys.stderr,
                           show_pos=True, show_eta=True) as bar:
        if bulk:
            ensure_demo_users()
            tally = seed_bulk(count, rng=random.Random(random_seed), progress=bar.update)
        else:
            tally = seed(count, random_seed=random_seed, progress=bar.update)
    click.echo(json.dumps({"created": count, "by_state": tally, "path": "bulk" if bulk else "detailed",
                           "seconds": round(time.monotonic() - started, 1)}, ensure_ascii=False))


@click.group("users")
def users_group() -> None:
    """Manage console users."""


@users_group.command("create")
@click.option("--username", required=True)
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
@click.option("--display-name", default="")
@click.option("--email", default="", help="Where alert e-mail goes (optional).")
@with_appcontext
def users_create(username: str, role: str, display_name: str, email: str) -> None:
    """Create a user; the password is read from stdin (one line)."""

    password = sys.stdin.readline().rstrip("\r\n")
    try:
        user = accounts.create_user(username, password, role, display_name=display_name, email=email)
    except ServiceError as exc:
        details = "; ".join(f"{k}: {', '.join(v)}" for k, v in exc.fields.items())
        raise click.ClickException(f"{exc.message}{' (' + details + ')' if details else ''}") from None
    click.echo(f"created user {user.username} ({user.role})")


@click.group("tokens")
def tokens_group() -> None:
    """API tokens for the applicant portal."""


@tokens_group.command("create")
@click.option("--name", required=True)
@with_appcontext
def tokens_create(name: str) -> None:
    """Print a new API token once (only its hash is stored)."""

    try:
        _, plain = create_token(name)
    except ServiceError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(plain)


@click.group("jobs")
def jobs_group() -> None:
    """Scheduled jobs: one sweep now, or the scheduler as a process."""


@jobs_group.command("sweep")
@click.option("--now", "now_text", default=None, help="ISO-8601 moment to sweep as (default: now).")
@with_appcontext
def jobs_sweep(now_text: str | None) -> None:
    """Run one overdue sweep and print a JSON summary."""


    now = None
    if now_text:
        try:
            now = datetime.fromisoformat(now_text)
        except ValueError:
            raise click.BadParameter("not an ISO-8601 time", param_hint="--now") from None
        now = (now if now.tzinfo else now.replace(tzinfo=UTC)).astimezone(UTC)
    click.echo(json.dumps(sweep_once(now), ensure_ascii=False, sort_keys=True))


@jobs_group.command("run")
@with_appcontext
def jobs_run() -> None:
    """The scheduler as a long-running process (production)."""


    run_forever(current_app._get_current_object())


APP_COMMANDS = [seed_command, users_group, tokens_group, jobs_group]


@cli.command("demo", with_appcontext=False)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--orders", "count", default=300, show_default=True, type=click.IntRange(0, 100_000))
def demo(host: str, port: int, count: int) -> None:
    """One command for a new user: database, migrations, demo users and orders, then serve."""
    if os.environ.get("CONSOLE_MODE") == "production":
        raise click.ClickException("demo refuses CONSOLE_MODE=production: it would write demo users (an admin "
                                   "among them) into the production database.")
    os.environ.setdefault("CONSOLE_LOG_FORMAT", "text")  # a terminal, not a log collector
    app = create_app({"MODE": "demo"})
    with app.app_context():
        click.echo(f"数据库：{app.config['SQLALCHEMY_DATABASE_URI']}")
        upgrade(directory=app.extensions["migrate"].directory)
        others = other_users()
        if others:
            raise click.ClickException(f"demo refuses a database that holds users it did not make ({', '.join(others)}"
                                       "…): point CONSOLE_DATABASE_URL at a demo database.")
        logins = _demo_logins(app)

        if count and not db.session.scalar(select(func.count(Order.id))):
            with click.progressbar(length=count, label="生成演示订单", file=sys.stderr) as bar:
                seed(count, progress=bar.update)
    click.echo("")
    click.echo(f"备案审核台已启动： http://{host}:{port}/")
    click.echo("演示账号（用户名 / 角色 / 密码）：")
    for username, (role, password) in logins.items():
        click.echo(f"  {username:<10} {role:<11} {password}")
    click.echo("按 Ctrl+C 停止。")


    start_in_process(app)
    # run_simple, not app.run: Flask ignores app.run() inside its own CLI.
    run_simple(host, port, app, use_reloader=False, threaded=True)


def _demo_logins(app) -> dict[str, tuple[str, str]]:
    """Demo users, created once; their passwords are kept in the instance folder (0600)."""

    path = Path(app.instance_path) / "demo-logins.json"
    known = json.loads(path.read_text()) if path.exists() else {}
    created = ensure_demo_users()
    if created:
        known.update({k: list(v) for k, v in created.items()})
        path.write_text(json.dumps(known, ensure_ascii=False, indent=1))
        path.chmod(0o600)
    return {k: tuple(v) for k, v in known.items()}


def main() -> None:
    cli.main(prog_name="icp-console")


__all__ = ["APP_COMMANDS", "cli", "main"]
