"""The restricted-party screening list: the US Consolidated Screening List (CSL) file.

The list is a JSON file as trade.gov publishes it. `parse_screening_list` reads and
checks it; `load_screening_list` (`accord screening load`) replaces the entries in the
database with the file's.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from sqlalchemy import delete, insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.store.screening import ScreeningEntry, ScreeningList
from services.workers.clearance.names import normalise_name

log = logging.getLogger(__name__)

# Rows per INSERT batch when loading: well inside every driver's parameter limit
# (7 columns x 1000 rows) and few enough round trips for 20,000 entries.
INSERT_BATCH = 1000


class ScreeningListError(ValueError):
    """The screening list file is missing, not JSON, or not in the CSL format."""


@dataclass(frozen=True)
class ListedEntry:
    """One entry of the list, checked and tidied."""

    id: str
    source: str
    type: str | None
    name: str
    alt_names: tuple[str, ...] = ()
    programs: tuple[str, ...] = ()
    addresses: tuple[dict[str, str | None], ...] = ()

    @cached_property
    def countries(self) -> tuple[str, ...]:
        """The ISO alpha-2 countries of the entry's addresses, sorted."""
        return tuple(sorted({c for a in self.addresses if (c := a.get("country"))}))

    def row(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "source": self.source,
            "type": self.type,
            "name": self.name,
            "alt_names": list(self.alt_names),
            "programs": list(self.programs),
            "addresses": [dict(a) for a in self.addresses],
        }


@dataclass(frozen=True)
class ParsedList:
    """A list file read and checked: entries unique by id (the last of each kept)."""

    path: Path
    version: str
    entries: list[ListedEntry]
    duplicates: int = 0


_ADDRESS_FIELDS = ("address", "city", "state", "postal_code", "country")
# Column sizes of ScreeningEntry: PostgreSQL would refuse longer values mid-load.
_MAX_ID, _MAX_SOURCE, _MAX_TYPE = 100, 200, 50


class _EntryProblem(Exception):
    pass


def _text(value: Any, what: str, *, required: bool, max_length: int | None = None) -> str | None:
    if isinstance(value, str):
        text = value.strip()
    elif value is None:
        text = ""
    elif isinstance(value, int) and not isinstance(value, bool):
        text = str(value)  # a numeric id or postal code
    else:
        raise _EntryProblem(f"{what} must be a string, not {type(value).__name__}")
    if not text:
        if required:
            raise _EntryProblem(f"has no {what}")
        return None
    if "\x00" in text:
        raise _EntryProblem(f"{what} contains a NUL character")
    if max_length is not None and len(text) > max_length:
        raise _EntryProblem(f"{what} is longer than {max_length} characters")
    return text


def _strings(value: Any, what: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise _EntryProblem(f"{what} must be a list, not {type(value).__name__}")
    items = (_text(item, f"an item of {what}", required=False) for item in value)
    return tuple(dict.fromkeys(item for item in items if item))


def _addresses(value: Any) -> tuple[dict[str, str | None], ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise _EntryProblem(f"addresses must be a list, not {type(value).__name__}")
    addresses = []
    for item in value:
        if not isinstance(item, dict):
            raise _EntryProblem(f"an address must be an object, not {type(item).__name__}")
        address = {f: _text(item.get(f), f"address {f}", required=False) for f in _ADDRESS_FIELDS}
        if address["country"]:
            address["country"] = address["country"].upper()
        addresses.append(address)
    return tuple(addresses)


def _entry(raw: Any) -> ListedEntry:
    if not isinstance(raw, dict):
        raise _EntryProblem(f"is a {type(raw).__name__}, not an object")
    entry_id = _text(raw.get("id"), "id", required=True, max_length=_MAX_ID)
    name = _text(raw.get("name"), "name", required=True)
    assert entry_id is not None and name is not None
    if not normalise_name(name):
        raise _EntryProblem(f"name {name!r} has no letters or digits")
    return ListedEntry(
        id=entry_id,
        source=_text(raw.get("source"), "source", required=False, max_length=_MAX_SOURCE) or "",
        type=_text(raw.get("type"), "type", required=False, max_length=_MAX_TYPE),
        name=name,
        alt_names=tuple(a for a in _strings(raw.get("alt_names"), "alt_names") if a != name),
        programs=_strings(raw.get("programs"), "programs"),
        addresses=_addresses(raw.get("addresses")),
    )


def parse_screening_list(path: Path) -> ParsedList:
    """Read and check a CSL JSON file; any problem is a ScreeningListError naming it.

    The file is `{"results": [entry, ...], ...}` (the trade.gov API and download) or a
    plain list of entries. Entries sharing an id: the last one is kept.
    """
    try:
        data = path.read_bytes()
    except OSError as err:
        raise ScreeningListError(
            f"screening list {path} cannot be read: {err.strerror or err}"
        ) from err
    try:
        document = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ScreeningListError(f"screening list {path} is not valid JSON: {err}") from err
    if isinstance(document, dict):
        if "results" not in document:
            raise ScreeningListError(
                f"screening list {path} is an object without 'results': expected the CSL "
                'format, {"results": [entry, ...]} or a list of entries'
            )
        raw_entries, where = document["results"], "results"
    else:
        raw_entries, where = document, ""
    if not isinstance(raw_entries, list):
        raise ScreeningListError(
            f"screening list {path}: {where or 'the document'} must be a list of entries, "
            f"not {type(raw_entries).__name__}"
        )
    if not raw_entries:
        # An empty download would silently screen every party against nothing.
        raise ScreeningListError(f"screening list {path} contains no entries")
    entries: dict[str, ListedEntry] = {}
    for position, raw in enumerate(raw_entries):
        try:
            entry = _entry(raw)
        except _EntryProblem as problem:
            raise ScreeningListError(
                f"screening list {path}: entry {where}[{position}] {problem}"
            ) from None
        # Re-inserting moves a repeated id to its last position, as if only that one existed.
        entries.pop(entry.id, None)
        entries[entry.id] = entry
    return ParsedList(
        path=path,
        version=hashlib.sha256(data).hexdigest(),
        entries=list(entries.values()),
        duplicates=len(raw_entries) - len(entries),
    )


async def load_screening_list(session: AsyncSession, path: Path) -> ScreeningList:
    """Make the file the list in force: its entries replace all others, in one transaction.

    The file is checked completely before the database is touched. Commits the session
    (and rolls it back if the write fails). Loading the same file again records a new
    ScreeningList with the same version.
    """
    # Reading and checking 20,000 entries takes a few hundred ms: off the event loop.
    parsed = await asyncio.to_thread(parse_screening_list, path)
    if parsed.duplicates:
        log.warning(
            "screening list %s: %d repeated ids; the last entry for each was kept",
            path,
            parsed.duplicates,
        )
    source = str(path)
    loaded = ScreeningList(
        version=parsed.version,
        # the column holds 500 characters; the end of a long path is the telling part
        source=source if len(source) <= 500 else "..." + source[-497:],
        entry_count=len(parsed.entries),
    )
    try:
        await session.execute(delete(ScreeningEntry).execution_options(synchronize_session=False))
        # A Core executemany: the ORM's bulk insert splits a batch into one statement per
        # run of rows whose None columns agree, which was one INSERT per row in practice.
        table = ScreeningEntry.metadata.tables[ScreeningEntry.__tablename__]
        rows = [entry.row() for entry in parsed.entries]
        for start in range(0, len(rows), INSERT_BATCH):
            await session.execute(insert(table), rows[start : start + INSERT_BATCH])
        session.add(loaded)
        await session.commit()
    except Exception:
        await session.rollback()
        raise
    log.info(
        "screening list %s loaded: %d entries, version %s",
        path,
        loaded.entry_count,
        loaded.version[:12],
    )
    return loaded
