"""Every feed in the shared third-party corpus parses sanely or fails with a clear ParseError."""

from __future__ import annotations

import gzip
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from bot.errors import ParseError
from bot.feeds.parse import ParsedFeed, parse_feed

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "feeds"
FEED_SUFFIXES = (".xml", ".rdf", ".atom", ".rss", ".json", ".gz")
FILES = (
    sorted(p for p in CORPUS.iterdir() if p.name.endswith(FEED_SUFFIXES) and p.name != "index.json")
    if CORPUS.is_dir()
    else []
)

pytestmark = pytest.mark.corpus


def _base_url(path: Path) -> str:
    return f"https://corpus.example/feeds/{path.name}"


def _is_absolute_http(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def _parse(path: Path) -> ParsedFeed | ParseError:
    body = path.read_bytes()
    if path.suffix == ".gz":
        body = gzip.decompress(body)
    try:
        return parse_feed(body, feed_name="corpus", base_url=_base_url(path))
    except ParseError as exc:
        return exc


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_corpus_feed_parses_or_fails_clearly(path: Path) -> None:
    """>= 1 article with id/url/title, absolute unique links; or a ParseError naming the URL."""
    parsed = _parse(path)
    if isinstance(parsed, ParseError):
        assert "_INVALID" in path.name, f"{path.name} should parse: {parsed}"
        assert str(parsed).startswith(_base_url(path) + ": ")
        assert len(str(parsed)) > len(_base_url(path)) + 20  # says what it saw
        return
    assert parsed.articles, f"{path.name}: no articles, warnings={parsed.warnings}"
    ids = [a.item_id for a in parsed.articles]
    assert len(ids) == len(set(ids))
    for article in parsed.articles:
        assert article.item_id.strip()
        assert article.title.strip()
        assert _is_absolute_http(article.url), article.url
        assert article.image is None or _is_absolute_http(article.image.url)
        for moment in (article.published, article.updated):
            assert moment is None or moment.utcoffset() is not None


def test_raw_gzip_bytes_fail_gracefully() -> None:
    """The .gz file fed without decompressing is a ParseError that mentions gzip."""
    compressed = [p for p in FILES if p.suffix == ".gz"]
    if not compressed:
        pytest.skip("shared corpus not present")
    with pytest.raises(ParseError, match="gzip"):
        parse_feed(compressed[0].read_bytes(), feed_name="c", base_url=_base_url(compressed[0]))


def test_declared_encoding_mismatch_has_no_mojibake() -> None:
    """A feed declaring ISO-8859-1 but written in UTF-8 still reads as proper German."""
    path = CORPUS / "de_rss1_laut-de_ISO-8859-1.rdf"
    if not path.exists():
        pytest.skip("shared corpus not present")
    parsed = parse_feed(path.read_bytes(), feed_name="c", base_url=_base_url(path))
    text = " ".join(a.title + a.excerpt_html for a in parsed.articles)
    assert "Ã" not in text
    assert any(ch in text for ch in "äöüß")


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("blog-rss2_dustri-large.xml", "blog-atom_dustri-large.xml"),
        ("wp-rss2_allthis.xml", "jsonfeed-v1_allthis.json"),
    ],
)
def test_same_site_in_two_formats_gives_the_same_articles(first: str, second: str) -> None:
    """One site's posts as RSS and as Atom/JSON Feed give the same URLs and titles."""
    if not ((CORPUS / first).exists() and (CORPUS / second).exists()):
        pytest.skip("shared corpus not present")
    results = [_parse(CORPUS / name) for name in (first, second)]
    assert not any(isinstance(r, ParseError) for r in results)
    seen = [{(a.url, a.title) for a in r.articles} for r in results if isinstance(r, ParsedFeed)]
    assert seen[0] == seen[1]


def test_corpus_present_or_skipped() -> None:
    """Say clearly when the corpus tests did not run."""
    if not FILES:
        pytest.skip(f"shared corpus not found at {CORPUS}")
    assert len(FILES) >= 40
