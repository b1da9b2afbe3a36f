"""One-off commands that read articles: ``preview``, ``summarise``, ``post``."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import click

from bot.cli._common import Ctx, console, errors, load, no_database_yet, setup_logging
from bot.errors import ConfigError
from bot.words import plural

if TYPE_CHECKING:
    from bot.config import Config
    from bot.models import Article, Post

USER_AGENT = "syndbot-preview/0.1 (+https://github.com/syndbot/syndbot)"
SUMMARY_HINT_CHARS = 100  # suggested when --max-chars leaves no room for a sentence


def _platforms(spec: str) -> list[str]:
    """The platforms named in ``spec`` ("all", or names and aliases such as "twitter")."""
    from bot import registry

    known = registry.names()
    if spec == "all":
        return list(known)
    aliases = registry.aliases()
    names = [p.strip().lower() for p in spec.split(",") if p.strip()]
    names = list(dict.fromkeys(aliases.get(n, n) for n in names))  # "x,twitter": x once
    unknown = [n for n in names if n not in known]
    if unknown or not names:
        what = f"unknown platform {', '.join(unknown)}" if unknown else "no platform named"
        raise ConfigError(f"{what}; choose from all, {', '.join(known)}", key="--platform")
    return names


def _read_articles(source: str, *, limit: int) -> list[Article]:
    from bot.feeds import load_source_articles, make_http_client

    with make_http_client(user_agent=USER_AGENT, timeout=20.0) as client:
        articles = load_source_articles(source, client=client)
    if not articles:  # stderr, so JSON on stdout stays parseable ("[]")
        click.echo(f"note: {source}: the feed has no items; there is nothing to show", err=True)
    return articles[:limit] if limit > 0 else articles


def _with_lang(articles: list[Article], lang: str | None) -> list[Article]:
    return [dataclasses.replace(a, lang=lang) for a in articles] if lang else articles


@click.command()
@click.argument("source")
@click.option(
    "--platform",
    "platform_spec",
    default="all",
    show_default=True,
    help="Comma-separated platforms, or all.",
)
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@click.option(
    "--limit",
    type=click.IntRange(min=0),
    default=10,
    show_default=True,
    help="Articles to preview from a feed (0 = all).",
)
@click.option("--lang", default=None, help="Override the article language (en, hi, ta, te...).")
@click.option(
    "--llm",
    "use_llm",
    is_flag=True,
    help="Summarise with the config file's [llm] endpoint, fact gate and fallback.",
)
@click.pass_obj
def preview(  # click passes the options by name
    ctx: Ctx,
    source: str,
    *,
    platform_spec: str,
    fmt: str,
    limit: int,
    lang: str | None,
    use_llm: bool,
) -> None:
    """Show the posts syndbot would publish for SOURCE. Needs no account, writes nothing.

    SOURCE is a feed URL, a feed file or an article URL.

    \b
    Examples:
      syndbot preview https://example.com/feed/ --platform x,bluesky
      syndbot preview feed.xml --format json --limit 0 > posts.json
      syndbot preview feed.xml --llm --format json   # "summariser" and "gate" per post
    """
    setup_logging(0, service=False)
    from bot.compose import compose
    from bot.llm.preview import open_llm, provenance
    from bot.models import ChannelStyle
    from bot.summarise import ExtractiveSummariser

    with errors(), open_llm(load(ctx, defer_missing_credentials=True) if use_llm else None) as llm:
        platforms = _platforms(platform_spec)
        articles = _with_lang(_read_articles(source, limit=limit), lang)
        now = datetime.now(UTC)
        summariser = llm or ExtractiveSummariser()
        pairs = [
            (a, compose(a, ChannelStyle(platform=p), summariser=summariser, now=now))
            for a in articles
            for p in platforms
        ]
        if fmt == "json":
            rows = [{**post.to_dict(), **provenance(llm, a, post)} for a, post in pairs]
            click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        else:
            _print_posts([post for _, post in pairs], fmt)


def _print_posts(posts: Sequence[Post], fmt: str) -> None:
    from bot.render import print_posts

    if fmt == "json":
        click.echo(json.dumps([p.to_dict() for p in posts], ensure_ascii=False, indent=2))
    else:
        print_posts(console(), posts)


@click.command()
@click.argument("source")
@click.option("--max-chars", type=click.IntRange(min=1), default=280, show_default=True)
@click.option("--lang", default=None, help="Override the article language.")
@click.option(
    "--limit", type=click.IntRange(min=0), default=10, show_default=True, help="Articles (0 = all)."
)
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
def summarise(source: str, max_chars: int, lang: str | None, limit: int, fmt: str) -> None:
    """Print the summary of each article in SOURCE (feed URL/file or article URL).

    \b
    Example:
      syndbot summarise https://example.com/2026/11/battery-prices/ --max-chars 200
    """
    setup_logging(0, service=False)
    from bot.summarise import ExtractiveSummariser

    with errors():
        summariser = ExtractiveSummariser()
        rows = [
            {
                "item_id": a.item_id,
                "title": a.title,
                "url": a.url,
                "lang": a.lang,
                "summary": summariser.summarise(a, budget=max_chars),
            }
            for a in _with_lang(_read_articles(source, limit=limit), lang)
        ]
        empty = sum(not _has_words(str(row["summary"])) for row in rows)
        if fmt == "json":
            click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        else:
            from rich.markup import escape as esc

            for row in rows:
                console().rule(esc(str(row["title"])))
                console().print(row["summary"], markup=False, highlight=False)
                console().print()
        if empty:
            # stderr, so JSON on stdout stays parseable
            click.echo(
                f"note: {plural(empty, 'summary is', 'summaries are')} empty: no sentence fits "
                f"in {max_chars} characters; try --max-chars {SUMMARY_HINT_CHARS} or more",
                err=True,
            )


def _has_words(summary: str) -> bool:
    """False for "" or a bare ellipsis: a summary with nothing a reader could use."""
    return any(ch.isalnum() for ch in summary)


@click.command()
@click.argument("article_url")
@click.option(
    "--channel",
    "channels",
    multiple=True,
    help="Only this configured channel (repeatable). Default: every channel.",
)
@click.option("--dry-run", is_flag=True, help="Show the posts; send and record nothing.")
@click.pass_obj
def post(ctx: Ctx, article_url: str, channels: Sequence[str], dry_run: bool) -> None:
    """Post one article now to the configured channels.

    An article already sent to a channel is not sent again; see `syndbot status`.

    \b
    Examples:
      syndbot post https://evnews.example/2026/11/new-suv/ --dry-run
      syndbot post https://evnews.example/2026/11/new-suv/ --channel x-en
    """
    setup_logging(ctx.verbose, service=False)
    from bot.app import open_pipeline
    from bot.feeds import fetch_article, make_http_client
    from bot.lock import sending
    from bot.render import delivery_table

    with errors():
        config = load(ctx, defer_missing_credentials=dry_run)  # composing needs no secrets
        targets = [config.channel(n) for n in dict.fromkeys(channels)] or list(config.channels)
        service = config.service
        article = _recorded(config, article_url)
        if article is not None:  # stderr: --dry-run's posts on stdout stay as they are
            click.echo(f"note: using the article as feed {article.feed} recorded it", err=True)
        else:
            with make_http_client(user_agent=service.user_agent, timeout=service.timeout) as client:
                # The operator typed this URL, so it is trusted even on a private network;
                # where it redirects is checked unless service.allow_private_addresses is set.
                article = fetch_article(
                    client, article_url, allow_private=service.allow_private_addresses
                )
        if dry_run:  # compose only: no database, no publisher, no request to a platform
            from bot.compose import compose
            from bot.llm.preview import open_llm
            from bot.summarise import ExtractiveSummariser

            # The summariser the real post would get: [llm] (gated) when configured.
            with open_llm(config if config.llm else None) as llm:
                summariser, now = llm or ExtractiveSummariser(), datetime.now(UTC)
                posts = [compose(article, c.style, summariser=summariser, now=now) for c in targets]
            _print_posts(posts, "text")
            return
        # `sending`: the service's start-up recovery must not take our claims for a crash's.
        with open_pipeline(config) as pipe, sending(config.service.database):
            wanted = {c.name for c in targets}
            reports = pipe.post_now(article, sorted(wanted))
            already = wanted - {r.channel for r in reports}
            console().print(delivery_table(reports))
            if already:
                console().print(
                    f"Already handled earlier (see `syndbot status`): {', '.join(sorted(already))}"
                )


def _recorded(config: Config, url: str) -> Article | None:
    """The article a configured feed already recorded at ``url``: posted as the feed gave
    it (the same text the service would post), without fetching the page again."""
    from bot.store import open_store

    if no_database_yet(config):
        return None  # nothing was polled yet
    with open_store(config.service.database, read_only=True) as store:
        return store.recorded_article([feed.name for feed in config.feeds], url)


def register(group: click.Group) -> None:
    for command in (preview, summarise, post):
        group.add_command(command)
