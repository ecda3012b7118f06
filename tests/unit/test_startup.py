"""Production never starts on demo money or demo accounts; the first teacher comes by command."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import replace

import pytest
from sqlalchemy import func
from sqlmodel import select

from tests.conftest import ROOT, sqlite_url
from visio import demo, startup, users
from visio.db import bind_engine
from visio.models import User
from visio.services import passwords
from visio.settings import Settings

PRODUCTION = Settings(env="production", payment_provider="acme-pay", allow_demo=False)


@pytest.fixture
def bound(engine):
    """The state-less helpers (`open_db()`) work on this test's database."""
    bind_engine(engine)
    yield engine
    bind_engine(None)


def test_development_starts_with_anything():
    development = Settings(env="development", payment_provider="demo", allow_demo=False)
    assert startup.production_problems(development, demo_accounts=True) == []


def test_production_refuses_the_demo_provider():
    problems = startup.production_problems(
        replace(PRODUCTION, payment_provider="demo"), demo_accounts=False
    )
    assert len(problems) == 1 and "VISIO_PAYMENT_PROVIDER" in problems[0]


def test_production_refuses_demo_accounts_in_its_database(bound, db, clock):
    demo.load(db, now=clock())
    with pytest.raises(startup.StartupRefused) as refused:
        startup.check(PRODUCTION)
    assert "demo accounts" in str(refused.value.code)


def test_production_with_a_real_provider_and_no_demo_accounts_starts(bound):
    startup.check(PRODUCTION)  # no exception


def test_an_explicit_demonstration_may_run_on_demo_money(bound, db, clock):
    demo.load(db, now=clock())
    startup.check(replace(PRODUCTION, payment_provider="demo", allow_demo=True))


def test_the_app_itself_refuses_to_start_in_production_on_demo_money(sqlite_template, tmp_path):
    path = tmp_path / "visio.db"
    shutil.copy(sqlite_template, path)
    env = {
        **os.environ,
        "REFLEX_DB_URL": sqlite_url(path),
        "VISIO_ENV": "production",
        "VISIO_PAYMENT_PROVIDER": "demo",
    }
    env.pop("VISIO_ALLOW_DEMO", None)
    started = subprocess.run(
        [sys.executable, "-c", "import visio.visio"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert started.returncode != 0
    assert "refuses to start with VISIO_ENV=production" in started.stderr
    assert "Traceback" not in started.stderr  # a message for the operator, not a crash


def test_make_run_never_loads_the_demo_in_production(bound, db, monkeypatch, capsys):
    monkeypatch.setattr(demo, "settings", replace(PRODUCTION, allow_demo=True))
    assert demo.main(["--auto"]) == 0
    monkeypatch.setattr(demo, "settings", PRODUCTION)
    assert demo.main([]) == 1  # asked for explicitly, but not allowed
    assert db.exec(select(func.count()).select_from(User)).one() == 0
    assert "demo data not loaded" in capsys.readouterr().out


def test_the_first_teacher_is_created_by_command(bound, db):
    line = users.create(
        role="teacher", email="Ana@School.example", name="Ana Ruiz", password="Quiet-Meadow-Lamp-77"
    )
    assert line == "Created the teacher account ana@school.example (Ana Ruiz)."
    made = db.exec(select(User).where(User.email == "ana@school.example")).one()
    assert (made.role, made.full_name) == ("teacher", "Ana Ruiz")
    assert passwords.verify_password("Quiet-Meadow-Lamp-77", made.password_hash)

    with pytest.raises(SystemExit, match="already has an account"):
        users.create(role="teacher", email="ana@school.example", name="Ana", password="x" * 12)
    with pytest.raises(SystemExit, match="password"):
        users.create(role="teacher", email="bo@school.example", name="Bo Li", password="short")


def test_the_command_reads_the_password_from_the_environment(bound, db, monkeypatch, capsys):
    monkeypatch.setenv("VISIO_NEW_PASSWORD", "Copper-Window-Trail-19")
    assert (
        users.main(["create", "--role", "student", "--email", "cy@x.example", "--name", "Cy"]) == 0
    )
    assert "Created the student account cy@x.example" in capsys.readouterr().out
