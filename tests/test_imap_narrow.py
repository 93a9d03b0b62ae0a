"""Server-side narrowing: the criteria (pure), the Gmail path on a recording client, and narrowed = not narrowed."""

from __future__ import annotations

import re
from datetime import date, datetime, timezone
from typing import Any

import pytest

from greenmail import Account, GreenMail, Mail, Server, demo_mail, seed, seed_gmail_shaped
from helpers import HEADER_CASES, header_case_calendar, plain_imap, raw_message
from thankyou_scan import ImapSource, load_calendar, parse_calendar, scan
from thankyou_scan.sources.imap_narrow import (
    COMMAND_BUDGET,
    gmail_criteria,
    imap_criteria,
    narrowing_key,
    search_day,
)
from thankyou_scan.sources.imap_search import _Narrowing

UTC = timezone.utc
NOW = datetime(2026, 11, 10, 17, 0, tzinfo=UTC)
CALENDAR = "src/thankyou_scan/data/demo-calendar.yaml"


# -- the criteria ----------------------------------------------------------------------


def test_an_address_is_searched_as_its_two_halves_in_each_field() -> None:
    assert imap_criteria({"ada@acme.example"}, set()) == [
        'OR (HEADER TO "ada" HEADER TO "acme.example") (OR (HEADER CC "ada" HEADER CC "acme.example") '
        '(HEADER BCC "ada" HEADER BCC "acme.example"))'
    ]


def test_gmail_addresses_and_domains_are_searched_by_domain() -> None:
    # Locally john.smith+jobs@googlemail.com is johnsmith@gmail.com: no substring of it is safe.
    (criteria,) = imap_criteria({"johnsmith@gmail.com"}, {"initech.example"}) or [""]
    assert '"johnsmith"' not in criteria
    assert all(f'HEADER TO "{d}"' in criteria for d in ("gmail.com", "googlemail.com", "initech.example"))


@pytest.mark.parametrize(
    ("addresses", "domains"),
    [
        ({"ada@bücher.example"}, set()),
        ({'"ada lovelace"@acme.example'}, set()),
        (set(), {"xn--bcher.example\\"}),
    ],
)
def test_a_target_that_cannot_be_quoted_safely_means_no_narrowing(
    addresses: set[str], domains: set[str]
) -> None:
    assert imap_criteria(addresses, domains) is None
    assert gmail_criteria(addresses, domains) is None


def test_criteria_are_cut_to_the_command_budget_and_nest_shallowly() -> None:
    addresses = {f"person{n}@company{n % 300}.example" for n in range(400)}
    chunks = imap_criteria(addresses, set())
    assert chunks is not None and len(chunks) > 1
    assert all(len(chunk) <= COMMAND_BUDGET for chunk in chunks)
    for chunk in chunks:
        depth = max_depth = 0
        for character in chunk:
            depth += {"(": 1, ")": -1}.get(character, 0)
            max_depth = max(max_depth, depth)
        assert depth == 0 and max_depth <= 12  # balanced trees: log2 of the targets, not their count
    found = {m for chunk in chunks for m in re.findall(r'HEADER TO "(person\d+)"', chunk)}
    assert found == {address.split("@")[0] for address in addresses}


def test_gmail_queries_name_each_target_in_each_field() -> None:
    assert gmail_criteria({"ada@acme.example"}, {"initech.example"}) == [
        'X-GM-RAW "{to:ada@acme.example cc:ada@acme.example bcc:ada@acme.example '
        'to:initech.example cc:initech.example bcc:initech.example}"'
    ]


def test_the_key_changes_with_the_targets_only() -> None:
    assert narrowing_key({"a@x.example", "b@x.example"}, set()) == narrowing_key(
        {"b@x.example", "a@x.example"}, set()
    )
    assert narrowing_key({"a@x.example"}, set()) != narrowing_key({"a@x.example"}, {"x.example"})
    assert search_day(date(2026, 2, 1)) == "1-Feb-2026"


# -- the SEARCH commands, on a recording client -------------------------------------------


class RecordingClient:
    """Just enough of IMAPClient for FolderSync._narrowed: capabilities and search, recorded."""

    def __init__(self, capabilities: tuple[bytes, ...], answers: dict[str, Any]) -> None:
        self._capabilities = capabilities
        self.answers = answers
        self.searches: list[str] = []
        self._imap = type("Imap", (), {"untagged_responses": {}})()

    def capabilities(self) -> tuple[bytes, ...]:
        return self._capabilities

    def search(self, criteria: str) -> list[int]:
        self.searches.append(criteria)
        for prefix, answer in self.answers.items():
            if prefix in criteria:
                if isinstance(answer, Exception):
                    raise answer
                return list(answer)
        return []


def narrowed(client: RecordingClient, found: list[int], narrow: bool | None = True) -> frozenset[int] | None:
    source = ImapSource("imap.example.com", user="me@example.com", password="secret", narrow=narrow)
    source._client, source._opened = client, True  # a recording client in place of a connection
    plan = _Narrowing(
        "k",
        imap_criteria({"ada@acme.example"}, set()) or [],
        gmail_criteria({"ada@acme.example"}, set()) or [],
    )
    return source._narrowed(date(2026, 11, 1), plan, found)


@pytest.mark.parametrize("narrow", [True, None])
def test_gmail_is_asked_with_x_gm_raw_within_the_window(narrow: bool | None) -> None:
    client = RecordingClient((b"IMAP4REV1", b"X-GM-EXT-1"), {"X-GM-RAW": [3, 7, 99]})
    assert narrowed(client, [1, 3, 5, 7], narrow) == {3, 7}  # only UIDs the window holds
    assert client.searches == [
        'OR SINCE 1-Nov-2026 SENTSINCE 1-Nov-2026 X-GM-RAW "{to:ada@acme.example cc:ada@acme.example bcc:ada@acme.example}"'
    ]


def test_gmail_refusing_x_gm_raw_falls_back_to_header_search() -> None:
    import imapclient

    refusal = imapclient.exceptions.InvalidCriteriaError("BAD Could not parse command")
    client = RecordingClient(
        (b"X-GM-EXT-1",), {"X-GM-RAW": refusal, 'NOT HEADER TO "@"': [], "HEADER TO": [5]}
    )
    assert narrowed(client, [1, 5]) == {5}
    assert [search.split(" ")[5] for search in client.searches] == ["X-GM-RAW", "NOT", "OR"]


def test_by_default_other_servers_are_not_asked_for_a_header_search() -> None:
    # Measured on Dovecot: searching the headers of 20,000 messages costs more than fetching them.
    client = RecordingClient((b"IMAP4REV1",), {"HEADER": [1]})
    assert narrowed(client, [1, 2], narrow=None) is None
    assert client.searches == []


def test_a_server_whose_header_search_is_not_a_substring_match_is_not_narrowed() -> None:
    client = RecordingClient((b"IMAP4REV1",), {'NOT HEADER TO "@"': [1, 2, 3]})  # no To holds "@"?
    assert narrowed(client, [1, 2, 3]) is None
    assert not any("acme" in search for search in client.searches)


def test_a_failed_narrowed_search_means_the_whole_window() -> None:
    import imapclient

    refusal = imapclient.exceptions.IMAPClientError("SEARCH command error: NO [LIMIT] too complex")
    client = RecordingClient((b"IMAP4REV1",), {'HEADER TO "ada"': refusal})
    assert narrowed(client, [1, 2]) is None


# -- on the real servers: the same report, fewer messages fetched --------------------------


def outsiders() -> list[Mail]:
    return [
        Mail(raw_message(to=f"someone{n}@elsewhere.example", date=f"Mon, 9 Nov 2026 0{n}:00:00 +0000"),
             datetime(2026, 11, 9, n, tzinfo=UTC))
        for n in range(1, 8)
    ]  # fmt: skip


def both_ways(port: int, account: Account, calendar: Any, **options: Any) -> tuple[Any, Any, int, int]:
    with plain_imap(port, account, narrow=True, **options) as source:
        narrow = scan(calendar, source, now=NOW)
        fetched_narrow = source.messages_fetched
    with plain_imap(port, account, narrow=False, **options) as source:
        wide = scan(calendar, source, now=NOW)
        fetched_wide = source.messages_fetched
    return narrow, wide, fetched_narrow, fetched_wide


@pytest.mark.imap
def test_narrowing_changes_nothing_but_what_is_fetched(server: Server, account: Account) -> None:
    seed(server, account, {"Sent": demo_mail() + outsiders()})
    narrow, wide, fetched_narrow, fetched_wide = both_ways(server.imap_port, account, load_calendar(CALENDAR))
    assert narrow == wide
    assert fetched_wide == 8 + 7
    assert fetched_narrow <= 8  # the outsiders are never fetched


@pytest.mark.imap
def test_narrowing_finds_the_real_world_header_shapes(server: Server, account: Account) -> None:
    when = datetime(2026, 11, 2, 18, 0, tzinfo=UTC)
    seed(
        server, account, {"Sent": [Mail(raw, when) for _name, raw, _recipient in HEADER_CASES] + outsiders()}
    )
    calendar = parse_calendar(header_case_calendar(HEADER_CASES))
    narrow, wide, fetched_narrow, _ = both_ways(server.imap_port, account, calendar)
    assert narrow == wide
    assert all(f.status.value == "sent" for f in narrow.followups)
    assert fetched_narrow <= len(HEADER_CASES)


@pytest.mark.imap
def test_narrowing_on_the_gmail_shaped_account(greenmail: GreenMail, gm_account: Account) -> None:
    seed_gmail_shaped(greenmail, gm_account)
    narrow, wide, _, _ = both_ways(
        greenmail.imap_port, gm_account, load_calendar(CALENDAR), folders=["[Gmail]/Sent Mail"]
    )
    assert narrow == wide
