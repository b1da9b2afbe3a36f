"""The poll report stays short when thousands of feeds are polled."""

from __future__ import annotations

import io

from rich.console import Console

from bot.pipeline import PollReport
from bot.render import poll_table


def _text(table: object) -> str:
    out = io.StringIO()
    Console(file=out, width=200, color_system=None).print(table)
    return " ".join(out.getvalue().split())  # the caption may wrap


def test_many_feeds_show_only_notable_rows_and_a_summary() -> None:
    """10,000 feeds: errors and feeds with news are listed, the 304s only counted."""
    reports = [PollReport(feed=f"f{n}", not_modified=True) for n in range(10_000)]
    reports[10] = PollReport(feed="f10", new=2, queued=4)
    reports[5000] = PollReport(feed="f5000", error="HTTP 404 Not Found: check the feed URL")
    reports[9999] = PollReport(feed="f9999", skipped=True, error="cannot connect")
    table = poll_table(reports)
    assert table.row_count == 3
    text = _text(table)
    assert text.index("f5000") < text.index("f9999") < text.index("f10 │")  # errors first
    assert "10,000 feeds: 9,997 not modified, 1 ok, 2 failed; 2 new, 4 queued" in text
    assert "9,997 unremarkable rows not shown" in text


def test_notable_rows_are_capped() -> None:
    """Even when every feed failed, the table lists at most ``max_rows`` of them."""
    reports = [PollReport(feed=f"f{n}", error="timed out") for n in range(500)]
    table = poll_table(reports, max_rows=40)
    assert table.row_count == 40
    assert "500 feeds: 0 not modified, 0 ok, 500 failed" in _text(table)


def test_a_few_feeds_still_get_one_row_each() -> None:
    """Up to the limit, every feed has its row, unchanged ones included."""
    reports = [PollReport(feed=f"f{n}", not_modified=True) for n in range(5)]
    table = poll_table(reports)
    assert table.row_count == 5
    assert "not modified (304)" in _text(table)
