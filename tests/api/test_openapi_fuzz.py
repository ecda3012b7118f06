"""schemathesis against /api/openapi.json: generated requests for every operation, sent to the
running app with a teacher's token, must never get a 5xx nor an answer the spec does not allow.

Bounded: at most MAX_EXAMPLES generated requests per operation in the fuzzing phase (the
examples and coverage phases add a few each), and no shrinking beyond a short deadline.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from tests.api.conftest import Make
from visio.api import create_api

MAX_EXAMPLES = 20

# The spec is built in-process (pytest collects before the server starts); the requests go to
# the served app, whose spec is checked to be this very one.
SPEC = create_api().openapi()
schema = schemathesis.openapi.from_dict(SPEC)
# Unknown query parameters are ignored, as HTTP APIs do: do not send them as "invalid" requests.
# The token is ours (a teacher's, below), not a generated header.
schema.config.generation.update(allow_extra_parameters=False, with_security_parameters=False)
# Every other check stays on. This one expects any request the spec allows to succeed; but the
# spec only gives shapes and types, the rules (title length, a start in the future, a known time
# zone, a link on the platform's host...) are the services' and answered with 422 and a code:
# copying them into the spec would write each rule twice.
schema.config.checks.update(excluded_check_names=["positive_data_acceptance"])


def test_the_served_spec_is_the_one_fuzzed(http) -> None:  # type: ignore[no-untyped-def]
    assert http.get("/api/openapi.json").json() == SPEC


@pytest.fixture
def teacher_headers(make: Make) -> dict[str, str]:
    """A teacher with a session of their own, so that some generated ids are theirs."""
    teacher = make.teacher()
    make.session(teacher)
    return teacher.headers


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,  # the same requests on every run: a failure is reproducible
    database=None,  # and nothing is written to .hypothesis/
)
def test_the_api_honours_its_spec(case, served, teacher_headers) -> None:  # type: ignore[no-untyped-def]
    case.call_and_validate(base_url=served.url, headers=teacher_headers, timeout=30)
