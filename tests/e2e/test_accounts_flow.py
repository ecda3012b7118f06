"""Accounts in a real browser: register, log out, log in, role guards, languages."""

from __future__ import annotations

import re

import pytest

from tests.e2e.helpers import login, logout, open_path, register, unique_email, wait_ready

pytestmark = pytest.mark.e2e


def test_teacher_and_student_register_log_in_and_are_kept_to_their_pages(new_page) -> None:  # type: ignore[no-untyped-def]
    page = new_page("fr-FR")
    teacher_email, student_email = unique_email("prof"), unique_email("eleve")

    register(page, role="teacher", name="Ada Lovelace", email=teacher_email)
    page.get_by_role("heading", name="Sessions Visio").wait_for()
    page.locator("#empty-state").wait_for()  # a new teacher has no session yet
    assert "Ada Lovelace" in page.locator("#account-menu").inner_text()
    page.reload()
    wait_ready(page)
    assert re.search(r"/teacher/video-sessions/?$", page.url)  # the login survives a reload
    logout(page)

    register(page, role="student", name="Alan Turing", email=student_email)
    page.locator(".session-card").first.wait_for()  # the demo sessions open to students
    open_path(page, "/teacher/video-sessions")  # not for students
    page.wait_for_url(re.compile(r"/student/video-sessions/?$"))
    page.locator("#create-session").wait_for(state="detached")
    logout(page)

    login(page, teacher_email)
    page.wait_for_url(re.compile(r"/teacher/video-sessions/?$"))
    open_path(page, "/student/video-sessions")
    page.wait_for_url(re.compile(r"/teacher/video-sessions/?$"))
    logout(page)

    # After logout the pages are closed again, and the old login does not come back.
    open_path(page, "/teacher/video-sessions")
    page.wait_for_url(re.compile(r"/login/?\?next=/teacher/video-sessions/?$"))


def test_a_logged_out_visitor_is_sent_to_login_and_back(new_page) -> None:  # type: ignore[no-untyped-def]
    page = new_page("en-US")
    open_path(page, "/student/video-sessions")
    page.wait_for_url(re.compile(r"/login/?\?next="))
    wait_ready(page)
    page.get_by_text("Log in to continue.").wait_for()  # the notice follows hydration
    login(page, "lea.dubois@visio.demo", "visio-demo-2026")
    page.wait_for_url(re.compile(r"/student/video-sessions/?$"))
    wait_ready(page)
    assert page.locator("#wallet-balance").inner_text() == "€85.00"  # 100 topped up, 15 paid


def test_wrong_credentials_and_weak_password_get_clear_messages(new_page) -> None:  # type: ignore[no-untyped-def]
    page = new_page("fr-FR")
    open_path(page, "/login")
    login(page, "nobody@example.org", "whatever-password")
    assert page.locator("#form-error").inner_text() == "E-mail ou mot de passe incorrect."
    login(page, "lea.dubois@visio.demo", "not-her-password")
    assert page.locator("#form-error").inner_text() == "E-mail ou mot de passe incorrect."

    open_path(page, "/register")
    page.fill("#full_name", "Grace Hopper")
    page.fill("#email", unique_email("grace"))
    page.fill("#password", "password123")
    page.click("#register-submit")
    page.get_by_text("Ce mot de passe est trop connu. Choisissez-en un autre.").wait_for()
    assert re.search(r"/register/?$", page.url)


def test_language_comes_from_the_browser_can_be_switched_and_is_remembered(new_page) -> None:  # type: ignore[no-untyped-def]
    page = new_page("en-US")
    open_path(page, "/login")
    assert page.get_by_role("heading", name="Log in").is_visible()
    page.get_by_role("radio", name="FR").click()
    page.get_by_role("heading", name="Connexion").wait_for()
    page.reload()
    wait_ready(page)
    assert page.get_by_role("heading", name="Connexion").is_visible()

    french = new_page("fr-FR", width=390, height=844)
    open_path(french, "/register")
    assert french.get_by_role("heading", name="Créer votre compte").is_visible()
