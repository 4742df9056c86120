"""The HTTP API, fuzzed from its own OpenAPI document with schemathesis.

Every operation of the served `/openapi.json` gets requests generated from its schema, as
each role and without a valid token: schemathesis' positive cases (valid by the document)
and negative ones (invalid on purpose, missing credentials among them). Some of them name
resources that exist (seeded below), the rest ids nobody has. Every response must not be
a 5xx, and must match the document: a documented status code, a documented content type,
documented headers, and a body that fits the schema of that status.

Wiring. The app under test is the real one, on the session's database and Temporal dev
server, with a worker on its task queue. Its engine (asyncpg or aiosqlite) and Temporal
client belong to the session's event loop, so the app must run on that loop: schemathesis'
own ASGI transport (starlette's TestClient) would drive it from a loop of its own, where
asyncpg connections and the Temporal client do not work. Hypothesis, on the other hand,
runs a synchronous test function. So the async test hands the whole Hypothesis run to a
worker thread (`asyncio.to_thread`) and keeps its loop free; each generated case is
serialized by schemathesis (`case.as_transport_kwargs`) and built into an httpx request
in that thread (a case no HTTP client could send is rejected, not blamed on the app),
then sent through an httpx ASGI client on the session loop
(`asyncio.run_coroutine_threadsafe`); the httpx response is judged by
`case.validate_response` with the checks below. No network, no second loop, and every
request is counted.

What the document cannot say, the fuzzer adds: cursors in the API's own encoding holding
arbitrary values, and a real signatory on generated proposals, so that some of them
start a workflow.

Reproducible: each (identity, operation) pair runs under its own fixed seed (the
`derandomize=True` idea, but without giving every role the same inputs);
ACCORD_FUZZ_SEED picks other seeds and ACCORD_FUZZ_SCALE multiplies the examples, to
explore further locally.
"""

from __future__ import annotations

import asyncio
import os
import traceback
import zlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, reject, seed, settings
from hypothesis import strategies as st
from schemathesis import Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.errors import FailureGroup
from schemathesis.schemas import APIOperation, BaseSchema
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from services.api.app import create_app
from services.api.pagination import encode_cursor
from services.demo import DEMO_USERS
from tests.factories import (
    current_task,
    proposal,
    register_asset,
    submit,
    to_active,
    to_clearance,
)
from tests.stack import Stack

BASE_URL = "http://accord.test"
SIGNATORY = "sid.signatory@accord.test"
ANONYMOUS = "anonymous"
SCALE = float(os.environ.get("ACCORD_FUZZ_SCALE", "1"))
SEED = os.environ.get("ACCORD_FUZZ_SEED", "0")

# Examples per operation, and the fewest requests each identity must have sent: one of
# every role, and no token at all. Hypothesis stops early on operations with few
# distinct inputs (GET /healthz has one), hence the margin.
EXAMPLES = {"officer": 10, "reviewer1": 10, "counsel": 10, "signatory1": 10, "admin": 10}
EXAMPLES[ANONYMOUS] = 3
MINIMUM_REQUESTS = {identity: 200 for identity in EXAMPLES}
MINIMUM_REQUESTS[ANONYMOUS] = 60

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
# The readiness probe's documented 503 reports a dependency that did not answer within
# its 3 s (on a loaded CI machine, Temporal's health check can be that slow): its shape
# is still checked, its status is not a server error.
READINESS_CHECKS = [check for check in CHECKS if check is not not_a_server_error]


@dataclass
class Seeded:
    """Resources that exist, as consistent sets of path parameters."""

    scenarios: list[dict[str, str]]


@pytest.fixture(scope="module")
async def seeded(stack: Stack) -> Seeded:
    """An agreement at each stage a command can meet, with its task, a finding and an asset."""
    asset = await register_asset(stack)
    licensed = await register_asset(
        stack,
        licenses=[
            {
                "licensee": "Sunrise Solar SA",
                "exclusive": True,
                "territories": ["FR"],
                "starts_on": "2020-01-01",
            }
        ],
    )
    in_review = await submit(stack, proposal(ip_assets=[asset["identifier"]]))
    review_task = await current_task(stack, in_review["id"])
    # A party on the screening list: counsel's task carries a hit that can be dismissed.
    screened = await to_clearance(
        stack,
        proposal(
            kind="defense_sharing",
            parties=[
                {"name": "State University", "country": "US", "role": "provider"},
                {"name": "Rosoboronexport", "country": "RU", "role": "recipient"},
            ],
            signatories=[{"email": SIGNATORY, "on_behalf_of": "State University"}],
        ),
    )
    hit = next(f for f in screened["findings"] if f["kind"] == "screening_hit")
    active = await to_active(stack)
    signature = await stack.actor("admin").get(
        "/v1/tasks", params={"agreement_id": active["id"], "status": "any"}
    )
    assert signature.status_code == 200, signature.text
    signed = next(t for t in signature.json()["items"] if t["kind"] == "signature")
    return Seeded(
        [
            {
                "agreement_id": in_review["id"],
                "task_id": review_task["id"],
                "identifier": asset["identifier"],
            },
            {
                "agreement_id": screened["agreement_id"],
                "task_id": screened["id"],
                "finding_id": hit["id"],
                "identifier": licensed["identifier"],
            },
            {"agreement_id": active["id"], "task_id": signed["id"]},
        ]
    )


@pytest.fixture(scope="module")
async def target(stack: Stack) -> AsyncIterator[tuple[httpx.AsyncClient, BaseSchema]]:
    """The app on the session's database and Temporal, and the document it serves.

    Commands wait 15 s, not a minute, for their workflow: a 504 is a failure here too,
    and one that shrinks request by request should not take an hour to report.
    """
    settings = stack.settings.model_copy(update={"update_timeout_seconds": 15})
    app = create_app(settings, engine=stack.engine, temporal=stack.client)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url=BASE_URL, timeout=60
    ) as client:
        document = await client.get("/openapi.json")
        assert document.status_code == 200, document.text
        schema = schemathesis.openapi.from_dict(document.json())
        schema.validate()  # a valid OpenAPI 3 document, or this raises
        yield client, schema


@dataclass
class Fuzzer:
    """Runs Hypothesis over every operation as one identity, in a worker thread."""

    identity: str
    schema: BaseSchema
    client: httpx.AsyncClient
    loop: asyncio.AbstractEventLoop
    token: str | None
    seeded: Seeded
    requests: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)

    def run(self) -> None:
        for result in self.schema.get_all_operations():
            operation = result.ok()
            try:
                self._fuzz(operation)
            except (Exception, FailureGroup) as exc:
                detail = "".join(traceback.format_exception_only(exc)).strip()
                self.failures.append(f"{self.identity}: {operation.label}\n{detail}")

    def _fuzz(self, operation: APIOperation) -> None:
        cases = st.one_of(
            operation.as_strategy(GenerationMode.POSITIVE),
            operation.as_strategy(GenerationMode.NEGATIVE),
        )
        known = st.sampled_from([None, *self.seeded.scenarios])
        takes_cursor = any(parameter.name == "cursor" for parameter in operation.query)
        cursor = st.none() | forged_cursors() if takes_cursor else st.none()

        @seed(zlib.crc32(f"{SEED}/{self.identity}/{operation.label}".encode()))
        @settings(
            max_examples=max(1, round(EXAMPLES[self.identity] * SCALE)),
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
            phases=(Phase.explicit, Phase.generate, Phase.shrink),
            report_multiple_bugs=False,
        )
        @given(case=cases, ids=known, cursor=cursor)
        def exchange(case: Case, ids: dict[str, str] | None, cursor: str | None) -> None:
            if ids is not None:
                aim(case, ids)
            if cursor is not None:
                case.query = {**(case.query or {}), "cursor": cursor}
            headers = {"Authorization": f"Bearer {self.token}"} if self.token else None
            kwargs = as_httpx(case.as_transport_kwargs(base_url=BASE_URL, headers=headers))
            try:
                request = self.client.build_request(**kwargs)
            except (UnicodeError, ValueError, httpx.InvalidURL):
                reject()  # no HTTP client could send it; the app is not at fault
            try:
                response = self.send(request)
            except Exception as exc:
                raise AssertionError(
                    f"the app raised {exc!r} on {case.as_curl_command(base_url=BASE_URL)}"
                ) from exc
            self.requests += 1
            self.statuses[response.status_code] = self.statuses.get(response.status_code, 0) + 1
            readiness = operation.path == "/readyz" and response.status_code == 503
            case.validate_response(response, checks=READINESS_CHECKS if readiness else CHECKS)

        exchange()

    def send(self, request: httpx.Request) -> httpx.Response:
        """Send from this thread, through the app on the session's loop."""
        future = asyncio.run_coroutine_threadsafe(self.client.send(request), self.loop)
        return future.result(timeout=180)


def aim(case: Case, ids: dict[str, str]) -> None:
    """Point the case at existing resources, where it names any.

    A generated proposal names made-up signatories, which the API refuses (only active
    signatory users sign): here Sid signs for its first party instead, so some generated
    proposals get through to their workflow.
    """
    for name in list(case.path_parameters or {}):
        if name in ids:
            case.path_parameters[name] = ids[name]
    if case.query and "agreement_id" in case.query:
        case.query["agreement_id"] = ids["agreement_id"]
    body = case.body
    if isinstance(body, dict) and isinstance(body.get("signatories"), list):
        parties = body.get("parties")
        if isinstance(parties, list) and parties and isinstance(parties[0], dict):
            party = parties[0].get("name")
            body["signatories"] = [{"email": SIGNATORY, "on_behalf_of": party, "order": 1}]


def forged_cursors() -> st.SearchStrategy[str]:
    """Cursors as the API encodes them, holding anything: the schema says only "string",
    so generated ones never get past base64, and the decoding behind it goes untested."""
    offsets = st.timedeltas(min_value=-timedelta(hours=23), max_value=timedelta(hours=23))
    moments = st.datetimes(timezones=st.none() | st.builds(timezone, offsets))
    parts = st.one_of(moments.map(datetime.isoformat), st.text(max_size=40))
    return st.lists(parts, min_size=1, max_size=3).map(lambda values: encode_cursor(*values))


def as_httpx(request: dict[str, Any]) -> dict[str, Any]:
    """requests-style keyword arguments, as schemathesis serializes a case, for httpx."""
    request = dict(request)
    data = request.pop("data", None)
    if isinstance(data, bytes | str):
        request["content"] = data
    elif data is not None:
        request["data"] = data
    if not request.get("cookies"):
        request.pop("cookies", None)
    return request


def test_the_run_sends_at_least_1000_requests() -> None:
    assert sum(MINIMUM_REQUESTS.values()) >= 1000


@pytest.mark.parametrize("identity", list(EXAMPLES))
async def test_generated_requests_get_documented_answers_and_no_server_error(
    stack: Stack,
    seeded: Seeded,
    target: tuple[httpx.AsyncClient, BaseSchema],
    identity: str,
) -> None:
    client, schema = target
    token = None
    if identity != ANONYMOUS:
        token = stack.tokens[next(u.email for u in DEMO_USERS if u.key == identity)]
    fuzzer = Fuzzer(identity, schema, client, asyncio.get_running_loop(), token, seeded)
    await asyncio.to_thread(fuzzer.run)
    failures = "\n\n".join(fuzzer.failures)
    assert not fuzzer.failures, f"{len(fuzzer.failures)} operation(s) failed:\n\n{failures}"
    assert fuzzer.requests >= MINIMUM_REQUESTS[identity] * min(SCALE, 1), fuzzer.statuses
    print(f"{identity}: {fuzzer.requests} requests, statuses {sorted(fuzzer.statuses.items())}")
