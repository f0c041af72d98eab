"""The icp-console commands, run as a user would run them (real subprocesses)."""

from __future__ import annotations

import json
import secrets
import subprocess

from sqlalchemy import func, select

from console.extensions import db
from console.models import ApiToken, Order, User
from tests.test_jobs import cli, env_for


def run(database_url: str, *args: str, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run(cli(*args), env=env_for(database_url), input=stdin, capture_output=True, text=True,
                          timeout=300)


def test_users_create_reads_the_password_from_stdin_and_enforces_the_policy(app, database_url):
    weak = run(database_url, "users", "create", "--username", "erin", "--role", "specialist", stdin="short\n")
    assert weak.returncode != 0 and "至少 12" in weak.stderr
    ok = run(database_url, "users", "create", "--username", "erin", "--role", "supervisor",
             stdin="a long enough passphrase\n")
    assert ok.returncode == 0, ok.stderr
    with app.app_context():
        assert db.session.scalar(select(User.role).where(User.username == "erin")) == "supervisor"


def test_tokens_create_prints_the_token_once_and_stores_its_hash(app, database_url):
    result = run(database_url, "tokens", "create", "--name", "portal-prod")
    token = result.stdout.strip()
    assert result.returncode == 0 and token.startswith("icp_")
    with app.app_context():
        stored = db.session.scalar(select(ApiToken))
        assert stored.name == "portal-prod" and token not in stored.token_hash
    response = app.test_client().get("/api/v1/orders/none", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 404  # the token works


def test_seed_makes_orders_in_many_states_with_progress(app, database_url):
    result = run(database_url, "seed", "--orders", "40", "--random-seed", "3")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["created"] == 40 and len(summary["by_state"]) >= 5
    assert "生成演示订单" in result.stderr  # the progress bar
    with app.app_context():
        assert db.session.scalar(select(func.count(Order.id))) == 40
        assert db.session.scalar(select(func.count(Order.id)).where(Order.error_count > 0)) > 0
        # some subjects filed with us before the console: the registry holds them, most of their
        # orders are 继续接入, and one left as 新增接入 is flagged
        from console.models import Filing

        assert db.session.scalar(select(func.count(Filing.id))) > 0
        assert db.session.scalar(select(func.count(Order.id)).where(Order.kind == "continue_access")) > 0


def test_seed_takes_the_bulk_path_for_large_counts_and_the_console_works_on_what_it_made(app, database_url):
    from tests.conftest import Browser, make_user

    result = run(database_url, "seed", "--orders", "3000", "--random-seed", "5")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["path"] == "bulk" and summary["created"] == 3000 and sum(summary["by_state"].values()) == 3000
    assert "生成演示订单（批量）" in result.stderr  # the progress bar (drawn in full on a terminal)
    again = run(database_url, "seed", "--orders", "2500", "--bulk")  # appended after the first batch
    assert again.returncode == 0, again.stderr
    with app.app_context():
        assert db.session.scalar(select(func.count(Order.id))) == 5500
        assert db.session.scalar(select(func.count(Order.id)).where(Order.state == "approved")) > 3500
        phone = db.session.scalar(select(Order.principal_mobile).where(Order.state == "approved").limit(1))
    make_user(app, "erin", "specialist")
    erin = Browser(app, "erin")
    assert erin.get("/queues/initial-review").status_code == 200
    assert "接入成功" in erin.get(f"/search?q={phone}").get_data(as_text=True)


def test_seed_refuses_counts_outside_its_range(app, database_url):
    for bad in ("0", "10000001", "abc"):
        result = run(database_url, "seed", "--orders", bad)
        assert result.returncode == 2 and "--orders" in result.stderr


def test_a_server_error_is_a_chinese_page_without_a_trace_and_nothing_is_kept(app, users, monkeypatch):
    from console.blueprints import queues
    from tests.conftest import Browser

    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    browser = Browser(app, "alice")
    app.config["PROPAGATE_EXCEPTIONS"] = False
    monkeypatch.setattr(queues.queue_service, "queue_page", broken)
    response = browser.get("/queues/initial-review")
    assert response.status_code == 500
    text = response.get_data(as_text=True)
    assert "服务器错误" in text and "disk on fire" not in text and "Traceback" not in text
    htmx = browser.get("/queues/initial-review", htmx=True)
    assert htmx.status_code == 500 and "<html" not in htmx.get_data(as_text=True)


def test_seed_refuses_a_production_configuration(app, database_url):
    result = run_env(database_url, "seed", "--orders", "5", CONSOLE_MODE="production",
                     CONSOLE_SECRET_KEY=secrets.token_urlsafe(48))
    assert result.returncode != 0 and "refuses a production configuration" in result.stderr
    with app.app_context():
        assert db.session.scalar(select(func.count(Order.id))) == 0 and db.session.scalar(
            select(func.count(User.id))) == 0


def test_demo_refuses_production_mode(app, database_url):
    result = run_env(database_url, "demo", "--orders", "0", CONSOLE_MODE="production")
    assert result.returncode != 0 and "demo refuses CONSOLE_MODE=production" in result.stderr
    with app.app_context():
        assert db.session.scalar(select(func.count(User.id))) == 0


def test_demo_refuses_a_database_with_real_users(app, users, database_url):
    result = run_env(database_url, "demo", "--orders", "0", CONSOLE_MODE="")
    assert result.returncode != 0 and "users it did not make" in result.stderr
    with app.app_context():
        assert db.session.scalar(select(func.count(User.id))) == len(users)  # no demo admin was added


def test_a_missing_secret_is_one_line_not_a_traceback(app, database_url):
    result = run_env(database_url, "tokens", "create", "--name", "x", CONSOLE_MODE="", CONSOLE_SECRET_KEY="")
    assert result.returncode != 0
    assert "CONSOLE_SECRET_KEY is not set" in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) <= 2


def run_env(database_url: str, *args: str, **env) -> subprocess.CompletedProcess:
    return subprocess.run(cli(*args), env=env_for(database_url, **env), input="", capture_output=True, text=True,
                          timeout=300)
