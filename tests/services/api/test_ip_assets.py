"""The IP asset registry: counsel and admins maintain it, everyone signed in reads it."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from tests.factories import pages
from tests.stack import Stack


def unique() -> str:
    """A token no other test's data contains; filter with `q` to see only this test's rows."""
    return uuid.uuid4().hex[:12].upper()


def asset_body(identifier: str | None = None, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "identifier": identifier or f"US-{unique()}-B2",
        "asset_type": "patent",
        "title": "Perovskite tandem solar cell",
        "jurisdiction": "US",
        "status": "granted",
        "owner": "State University",
        "filed_on": "2019-03-01",
        "expires_on": "2039-03-01",
        "inventors": [
            {"name": "Ada Lovelace", "assignment_recorded": True},
            {"name": "Charles Babbage", "assignment_recorded": False},
        ],
        "funding": [
            {"source": "government", "agency": "NSF", "award_number": "DMR-1234567"},
        ],
    }
    body.update(overrides)
    return body


def license_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "licensee": "Helio GmbH",
        "exclusive": True,
        "field_of_use": "photovoltaics",
        "territories": ["DE", "FR"],
        "starts_on": "2024-01-01",
        "ends_on": "2030-12-31",
    }
    body.update(overrides)
    return body


async def create(stack: Stack, body: dict[str, Any], actor: str = "counsel") -> dict[str, Any]:
    response = await stack.actor(actor).post("/v1/ip-assets", json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def listed(client: httpx.AsyncClient, **params: Any) -> list[str]:
    response = await client.get("/v1/ip-assets", params=params)
    assert response.status_code == 200, response.text
    return [item["identifier"] for item in response.json()["items"]]


def locs(response: httpx.Response) -> list[tuple[Any, ...]]:
    assert response.status_code == 422, response.text
    return [tuple(error["loc"]) for error in response.json()["detail"]]


# --- create and read ----------------------------------------------------------------


async def test_counsel_registers_an_asset_and_anyone_reads_it(stack: Stack) -> None:
    identifier = f"US-{unique()}-B2"
    body = asset_body(f"  {identifier} ", jurisdiction="us", licenses=[license_body()])
    created = await create(stack, body)

    assert created["identifier"] == identifier
    assert created["jurisdiction"] == "US"
    assert created["status"] == "granted"
    assert created["filed_on"] == "2019-03-01"
    assert created["inventors"] == body["inventors"]
    assert created["funding"] == body["funding"]
    [license_] = created["licenses"]
    assert license_["licensee"] == "Helio GmbH"
    assert license_["territories"] == ["DE", "FR"]
    assert license_["active"] is True
    assert license_["agreement_id"] is None

    for actor in ("officer", "reviewer1", "counsel", "admin"):
        response = await stack.actor(actor).get(f"/v1/ip-assets/{identifier}")
        assert response.status_code == 200, response.text
        assert response.json() == created


async def test_admin_registers_too_with_only_the_required_fields(stack: Stack) -> None:
    body = asset_body(asset_type="know_how", jurisdiction="WO")
    for optional in ("filed_on", "expires_on", "inventors", "funding"):
        del body[optional]
    created = await create(stack, body, actor="admin")

    assert created["filed_on"] is None and created["expires_on"] is None
    assert created["inventors"] == [] and created["funding"] == [] and created["licenses"] == []


async def test_a_duplicate_identifier_is_a_conflict(stack: Stack) -> None:
    body = asset_body()
    await create(stack, body)

    again = await stack.actor("admin").post(
        "/v1/ip-assets", json=asset_body(f" {body['identifier']}  ", title="Another")
    )
    assert again.status_code == 409, again.text
    assert again.json()["error"] == "conflict"


async def test_an_unknown_identifier_is_not_found(stack: Stack) -> None:
    missing = f"US-{unique()}-B1"
    assert (await stack.actor("officer").get(f"/v1/ip-assets/{missing}")).status_code == 404
    patched = await stack.actor("counsel").patch(
        f"/v1/ip-assets/{missing}", json={"status": "expired"}
    )
    assert patched.status_code == 404, patched.text
    licensed = await stack.actor("counsel").post(
        f"/v1/ip-assets/{missing}/licenses", json=license_body()
    )
    assert licensed.status_code == 404, licensed.text


async def test_reading_needs_a_token(stack: Stack) -> None:
    assert (await stack.api.get("/v1/ip-assets")).status_code == 401


# --- who may write ------------------------------------------------------------------


@pytest.mark.parametrize("actor", ["officer", "reviewer1"])
async def test_only_counsel_and_admins_write(stack: Stack, actor: str) -> None:
    body = asset_body()
    client = stack.actor(actor)
    assert (await client.post("/v1/ip-assets", json=body)).status_code == 403
    assert (await stack.actor("counsel").get(f"/v1/ip-assets/{body['identifier']}")).is_error

    existing = await create(stack, asset_body())
    path = f"/v1/ip-assets/{existing['identifier']}"
    assert (await client.patch(path, json={"status": "expired"})).status_code == 403
    assert (await client.post(f"{path}/licenses", json=license_body())).status_code == 403
    unchanged = await client.get(path)
    assert unchanged.json() == existing


# --- bad input ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "loc"),
    [
        ({"status": "lapsed"}, ("body", "status")),
        ({"asset_type": "recipe"}, ("body", "asset_type")),
        ({"jurisdiction": "U"}, ("body", "jurisdiction")),
        ({"jurisdiction": "US1"}, ("body", "jurisdiction")),
        ({"expires_on": "2019-02-28"}, ("body", "expires_on")),
        ({"filed_on": "2019-02-30"}, ("body", "filed_on")),
        ({"identifier": "   "}, ("body", "identifier")),
        ({"identifier": "US/123"}, ("body", "identifier")),
        ({"identifier": "US-\x00-1"}, ("body", "identifier")),
        ({"identifier": "X" * 101}, ("body", "identifier")),
        ({"title": "Solar\x00cell"}, ("body", "title")),
        ({"owner": "State\x00University"}, ("body", "owner")),
        (
            {"inventors": [{"name": "A\x00", "assignment_recorded": True}]},
            ("body", "inventors", 0, "name"),
        ),
        ({"inventors": [{"name": "Ada"}]}, ("body", "inventors", 0, "assignment_recorded")),
        ({"funding": [{"source": "crowd", "agency": "X"}]}, ("body", "funding", 0, "source")),
        ({"funding": [{"source": "sponsor", "agency": "X\x00"}]}, ("body", "funding", 0, "agency")),
        ({"color": "blue"}, ("body", "color")),
        (
            {"licenses": [license_body(territories=["DEU"])]},
            ("body", "licenses", 0, "territories", 0),
        ),
        ({"licenses": [license_body(territories=[])]}, ("body", "licenses", 0, "territories")),
    ],
)
async def test_malformed_assets_are_refused_naming_the_field(
    stack: Stack, overrides: dict[str, Any], loc: tuple[Any, ...]
) -> None:
    body = asset_body(**overrides)
    response = await stack.actor("counsel").post("/v1/ip-assets", json=body)
    assert loc in locs(response)
    if "identifier" not in overrides:
        found = await stack.actor("counsel").get(f"/v1/ip-assets/{body['identifier']}")
        assert found.status_code == 404, found.text


@pytest.mark.parametrize(
    ("overrides", "loc"),
    [
        ({"territories": ["XYZ"]}, ("body", "territories", 0)),
        ({"territories": ["D1"]}, ("body", "territories", 0)),
        ({"territories": []}, ("body", "territories")),
        ({"ends_on": "2023-12-31"}, ("body", "ends_on")),
        ({"starts_on": None}, ("body", "starts_on")),
        ({"licensee": ""}, ("body", "licensee")),
        ({"licensee": "Helio\x00"}, ("body", "licensee")),
        ({"field_of_use": "solar\x00"}, ("body", "field_of_use")),
        ({"agreement_id": str(uuid.uuid4())}, ("body", "agreement_id")),
        ({"active": False}, ("body", "active")),
    ],
)
async def test_malformed_licenses_are_refused_naming_the_field(
    stack: Stack, overrides: dict[str, Any], loc: tuple[Any, ...]
) -> None:
    asset = await create(stack, asset_body())
    path = f"/v1/ip-assets/{asset['identifier']}"
    response = await stack.actor("counsel").post(f"{path}/licenses", json=license_body(**overrides))
    assert loc in locs(response)
    assert (await stack.actor("counsel").get(path)).json()["licenses"] == []


@pytest.mark.parametrize(
    ("change", "loc"),
    [
        ({"status": "revoked"}, ("body", "status")),
        ({"status": None}, ("body", "status")),
        ({"title": None}, ("body", "title")),
        ({"title": "A\x00"}, ("body", "title")),
        ({"expires_on": "2018-01-01"}, ("body", "expires_on")),
        ({"identifier": "US-1"}, ("body", "identifier")),
        ({"inventors": [{"name": "Ada", "assignment_recorded": "maybe"}]}, None),
        ({}, ("body",)),
    ],
)
async def test_malformed_changes_are_refused_naming_the_field(
    stack: Stack, change: dict[str, Any], loc: tuple[Any, ...] | None
) -> None:
    asset = await create(stack, asset_body())
    path = f"/v1/ip-assets/{asset['identifier']}"
    response = await stack.actor("counsel").patch(path, json=change)
    expected = loc or ("body", "inventors", 0, "assignment_recorded")
    assert expected in locs(response)
    assert (await stack.actor("counsel").get(path)).json() == asset


async def test_nul_in_the_path_or_query_is_a_validation_error(stack: Stack) -> None:
    counsel = stack.actor("counsel")
    assert ("path", "identifier") in locs(await counsel.get("/v1/ip-assets/US%00-1"))
    assert ("query", "q") in locs(await counsel.get("/v1/ip-assets", params={"q": "a\x00"}))
    assert ("query", "status") in locs(
        await counsel.get("/v1/ip-assets", params={"status": "lapsed"})
    )
    assert ("query", "jurisdiction") in locs(
        await counsel.get("/v1/ip-assets", params={"jurisdiction": "U5"})
    )


@pytest.mark.parametrize("cursor", ["garbage", "W10", "WyJhIiwiYiJd", "WyJhXHUwMDAwIl0"])
async def test_a_forged_cursor_is_a_validation_error(stack: Stack, cursor: str) -> None:
    response = await stack.actor("counsel").get("/v1/ip-assets", params={"cursor": cursor})
    assert locs(response) == [("query", "cursor")]


# --- lists --------------------------------------------------------------------------


async def test_list_filters_by_status_jurisdiction_and_text(stack: Stack) -> None:
    token = unique()
    granted_us = await create(stack, asset_body(f"US-{token}-1", title=f"Anode {token}"))
    pending_ep = await create(
        stack, asset_body(f"EP-{unique()}-A1", jurisdiction="EP", status="pending", owner=token)
    )
    expired_us = await create(
        stack, asset_body(f"US-{unique()}-B1", status="expired", title=f"Cathode {token.lower()}")
    )

    reader = stack.actor("reviewer1")
    everything = {granted_us["identifier"], pending_ep["identifier"], expired_us["identifier"]}
    assert set(await listed(reader, q=token)) == everything
    assert set(await listed(reader, q=token.lower())) == everything
    assert await listed(reader, q=token, status="pending") == [pending_ep["identifier"]]
    assert await listed(reader, q=token, jurisdiction="ep") == [pending_ep["identifier"]]
    assert await listed(reader, q=token, jurisdiction="US", status="expired") == [
        expired_us["identifier"]
    ]
    assert await listed(reader, q=f"US-{token}") == [granted_us["identifier"]]
    assert await listed(reader, q=f"{token}-nowhere") == []
    assert await listed(reader, q=token, status="abandoned") == []


async def test_pages_follow_next_cursor_by_identifier_until_exhausted(stack: Stack) -> None:
    token = unique()
    identifiers = [f"ZZ-{token}-{i}" for i in (3, 1, 4, 0, 2)]
    for identifier in identifiers:
        await create(stack, asset_body(identifier, jurisdiction="ZZ"))

    listed = await pages(stack.actor("officer"), "/v1/ip-assets", q=token, limit=2)
    assert [len(page["items"]) for page in listed] == [2, 2, 1]
    assert [item["identifier"] for page in listed for item in page["items"]] == sorted(identifiers)
    assert "licenses" not in listed[-1]["items"][0]


# --- changes ------------------------------------------------------------------------


async def test_counsel_records_an_assignment_and_a_lapse(stack: Stack) -> None:
    asset = await create(stack, asset_body())
    path = f"/v1/ip-assets/{asset['identifier']}"
    inventors = [
        {"name": "Ada Lovelace", "assignment_recorded": True},
        {"name": "Charles Babbage", "assignment_recorded": True},
    ]

    response = await stack.actor("counsel").patch(path, json={"inventors": inventors})
    assert response.status_code == 200, response.text
    assert response.json()["inventors"] == inventors
    assert response.json()["updated_at"] > asset["updated_at"]

    response = await stack.actor("admin").patch(
        path,
        json={
            "status": "abandoned",
            "expires_on": None,
            "funding": [{"source": "sponsor", "agency": "Acme Corp"}],
            "title": "  Renamed  ",
            "owner": "State University Research Foundation",
        },
    )
    assert response.status_code == 200, response.text
    changed = response.json()
    assert changed["status"] == "abandoned"
    assert changed["expires_on"] is None
    assert changed["funding"] == [
        {"source": "sponsor", "agency": "Acme Corp", "award_number": None}
    ]
    assert changed["title"] == "Renamed"
    assert changed["owner"] == "State University Research Foundation"
    assert changed["inventors"] == inventors
    assert changed["identifier"] == asset["identifier"]
    assert changed["filed_on"] == asset["filed_on"]
    assert (await stack.actor("officer").get(path)).json() == changed


async def test_expiry_moves_within_the_filing_date(stack: Stack) -> None:
    asset = await create(stack, asset_body())
    path = f"/v1/ip-assets/{asset['identifier']}"
    response = await stack.actor("counsel").patch(path, json={"expires_on": "2019-03-01"})
    assert response.status_code == 200, response.text
    assert response.json()["expires_on"] == "2019-03-01"


# --- licenses -----------------------------------------------------------------------


async def test_counsel_records_licenses_already_granted(stack: Stack) -> None:
    asset = await create(stack, asset_body())
    path = f"/v1/ip-assets/{asset['identifier']}"

    first = await stack.actor("counsel").post(
        f"{path}/licenses",
        json=license_body(
            starts_on="2025-01-01", ends_on=None, field_of_use=None, territories=["ww"]
        ),
    )
    assert first.status_code == 201, first.text
    recorded = first.json()
    assert recorded["territories"] == ["WW"]
    assert recorded["field_of_use"] is None
    assert recorded["ends_on"] is None
    assert recorded["active"] is True
    assert recorded["agreement_id"] is None

    second = await stack.actor("admin").post(
        f"{path}/licenses",
        json=license_body(exclusive=False, starts_on="2021-06-01", territories=["us", "CA", "US"]),
    )
    assert second.status_code == 201, second.text
    assert second.json()["territories"] == ["US", "CA"]
    assert second.json()["exclusive"] is False

    detail = (await stack.actor("reviewer1").get(path)).json()
    assert [lic["id"] for lic in detail["licenses"]] == [second.json()["id"], recorded["id"]]
