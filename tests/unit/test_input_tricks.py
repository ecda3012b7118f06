"""Inputs that deceive (issue 11, point 8): redirects off-site, hidden characters, inside links."""

from __future__ import annotations

import pytest

from tests.factories import make_session, make_teacher, table_counts, unique_email
from visio.models import Platform
from visio.services import accounts, materials
from visio.services.errors import InvalidInput
from visio.services.links import check_https_url, check_platform_link, safe_next_path

HOME = "/student/video-sessions"


@pytest.mark.parametrize(
    "path",
    [
        "/\t/evil.example",  # browsers drop the tab: //evil.example
        "/\n/evil.example",
        "/\r\n/evil.example",
        "//evil.example",
        "/\\evil.example",
        "\\\\evil.example",
        "https://evil.example/",
        "javascript:alert(1)",
        "/\u3000/evil.example",
        "evil.example",
        "",
        None,
    ],
)
def test_next_refuses_anything_that_may_leave_the_site(path):
    assert safe_next_path(path, HOME) == HOME


@pytest.mark.parametrize(
    "path", ["/sessions/12", "/teacher/video-sessions?view=past", "/wallet#history", "/"]
)
def test_next_follows_paths_of_this_site(path):
    assert safe_next_path(path, HOME) == path


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/admin",
        "https://localhost:8443/",
        "https://[::1]/",
        "https://10.1.2.3/",
        "https://172.16.0.9/",
        "https://192.168.1.1/setup",
        "https://169.254.169.254/latest/meta-data",
        "https://[fe80::1]/",
        "https://0x7f.1/",
        "https://2130706433/",
        "https://[::ffff:127.0.0.1]/",
        "https://0.0.0.0/",
        "https://printer.local/",
        "https://wiki.internal/",
    ],
)
def test_links_to_the_openers_own_machine_or_network_are_refused(url):
    with pytest.raises(InvalidInput) as refused:
        check_platform_link(Platform.CUSTOM, url)
    assert refused.value.code == "link_private_address"


def test_public_links_are_accepted():
    assert check_https_url("https://meet.example.org/room") == "https://meet.example.org/room"
    assert check_https_url("https://8.8.8.8/x") == "https://8.8.8.8/x"


def test_zoom_and_teams_links_stay_on_their_domains():
    for platform, url in (
        (Platform.ZOOM, "https://zoom.us.evil.example/j/1"),
        (Platform.TEAMS, "https://teams.microsoft.com.evil.example/l/x"),
    ):
        with pytest.raises(InvalidInput) as refused:
            check_platform_link(platform, url)
        assert refused.value.code == "link_wrong_host"
    assert check_platform_link(Platform.ZOOM, "https://us02web.zoom.us/j/1")


HIDDEN = ["Alg\u200bebra", "\u202eabc", "Maths\u2066x\u2069", "\ufeffTitle", "Na\u00adme", "\u3164"]


@pytest.mark.parametrize("text", HIDDEN)
def test_session_titles_and_tags_refuse_hidden_characters(db, clock, text):
    teacher = make_teacher(db, clock=clock)
    counts = table_counts(db)
    for field, values in (("title", {"title": text + " revision"}), ("tags", {"tags": [text]})):
        with pytest.raises(InvalidInput) as refused:
            make_session(db, teacher=teacher, clock=clock, **values)
        assert (refused.value.code, refused.value.field) == ("text_hidden_characters", field)
    assert table_counts(db) == counts


def test_names_refuse_hidden_characters(db, clock):
    with pytest.raises(InvalidInput) as refused:
        accounts.register(
            db=db,
            full_name="Claire\u200d Martin",
            email=unique_email(),
            password="Violet-Harbour-Lantern-42",
            role="teacher",
            address=None,
            clock=clock,
        )
    assert (refused.value.code, refused.value.field) == ("text_hidden_characters", "full_name")


def test_material_titles_refuse_hidden_characters(db, clock):
    teacher = make_teacher(db, clock=clock)
    session = make_session(db, teacher=teacher, clock=clock)
    with pytest.raises(InvalidInput) as refused:
        materials.add_link(
            db=db,
            actor=teacher,
            video_session_id=session.id,
            title="slides\u202egpj.exe",
            url="https://example.org/slides",
        )
    assert refused.value.code == "text_hidden_characters"


def test_ordinary_accents_and_scripts_are_visible_text(db, clock):
    teacher = make_teacher(db, clock=clock)
    made = make_session(db, teacher=teacher, clock=clock, title="Éléments d'algèbre — 代数 — جبر")
    assert made.title == "Éléments d'algèbre — 代数 — جبر"
