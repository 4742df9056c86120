"""Demo organisation: the groups the review policy names and one person per role."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.api.auth import hash_token, new_token
from services.store import Group, GroupMember, Role, User

GROUPS = {
    "technical-review": "Technical review board",
    "legal-review": "Legal review",
    "security-review": "Security review",
    "finance-review": "Finance review",
    "ip-counsel": "IP counsel",
}


@dataclass(frozen=True)
class DemoUser:
    key: str
    email: str
    name: str
    role: Role
    groups: tuple[str, ...] = ()
    leads: tuple[str, ...] = ()


DEMO_USERS = (
    DemoUser("officer", "olivia.officer@accord.test", "Olivia Officer", Role.PROGRAM_OFFICER),
    DemoUser(
        "reviewer1",
        "rita.reviewer@accord.test",
        "Rita Reviewer",
        Role.REVIEWER,
        ("technical-review", "finance-review"),
        ("technical-review",),
    ),
    DemoUser(
        "reviewer2",
        "ravi.reviewer@accord.test",
        "Ravi Reviewer",
        Role.REVIEWER,
        ("technical-review", "legal-review"),
        ("legal-review",),
    ),
    DemoUser(
        "security",
        "sam.security@accord.test",
        "Sam Security",
        Role.REVIEWER,
        ("security-review",),
        ("security-review",),
    ),
    DemoUser(
        "counsel",
        "iris.counsel@accord.test",
        "Iris Counsel",
        Role.IP_COUNSEL,
        ("ip-counsel",),
        ("ip-counsel",),
    ),
    # Sid signs for the university; Sofia for the counterparty (Helio GmbH in the demo).
    DemoUser("signatory1", "sid.signatory@accord.test", "Sid Signatory", Role.SIGNATORY),
    DemoUser("signatory2", "sofia.signatory@accord.test", "Sofia Signatory", Role.SIGNATORY),
    DemoUser("admin", "ada.admin@accord.test", "Ada Admin", Role.ADMIN, ("finance-review",)),
)


# Which demo user decides each review step of the shipped policy (config/review_policy.yaml)
# in walk-throughs, tests and benchmarks: a member of the step's group.
STEP_DECIDERS: dict[str, tuple[str, ...]] = {
    "technical": ("reviewer1",),
    "technical_dual": ("reviewer1", "reviewer2"),
    "legal": ("reviewer2",),
    "security": ("security",),
    "finance": ("reviewer1",),
}


async def seed_demo(session: AsyncSession, tokens_file: Path) -> dict[str, str]:
    """Create the demo groups and users if missing; return every demo user's token.

    Tokens are stored hashed; the plain ones are kept in `tokens_file` (mode 600) so a
    second run can print them again.
    """
    tokens = _read_tokens(tokens_file)
    groups = {g.slug: g for g in await session.scalars(select(Group))}
    for slug, name in GROUPS.items():
        if slug not in groups:
            groups[slug] = Group(slug=slug, name=name)
            session.add(groups[slug])
    await session.flush()
    for demo in DEMO_USERS:
        user = await session.scalar(select(User).where(User.email == demo.email))
        if user is None or demo.email not in tokens:
            token = new_token()
            tokens[demo.email] = token
            if user is None:
                user = User(email=demo.email, name=demo.name, role=demo.role, token_hash="")
                session.add(user)
            user.token_hash = hash_token(token)
            await session.flush()
        # Memberships too are topped up, so an older data directory gains new groups.
        member_of = set(
            await session.scalars(
                select(GroupMember.group_id).where(GroupMember.user_id == user.id)
            )
        )
        for slug in demo.groups:
            if groups[slug].id not in member_of:
                session.add(GroupMember(group_id=groups[slug].id, user_id=user.id))
        for slug in demo.leads:
            groups[slug].lead_id = user.id
    await session.commit()
    _write_tokens(tokens_file, tokens)
    return tokens


def _read_tokens(path: Path) -> dict[str, str]:
    tokens: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
    return tokens


def _write_tokens(path: Path, tokens: dict[str, str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(tokens, indent=2))
    path.chmod(0o600)
