"""What a successful poll does with the items it found: record, dedupe, queue.

Never floods: the first poll queues only what ``catch_up`` allows, and a later poll that
suddenly shows more than ``max_new`` unseen items (a feed reset, a CMS migration, changed
links) queues only the newest ``max_new``. Never repeats: an item known by id, or by its
normalised link, is not queued again; an edit is recorded, and posted as a correction only
when the feed asks for it and the headline changed.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.config import Config, FeedConfig
from bot.engine.catchup import newest_first, select_for_first_poll
from bot.models import PAGE_FEED, Article
from bot.protocols import Store
from bot.urls import normalise_url

log = logging.getLogger("syndbot")


@dataclass(frozen=True)
class Intake:
    new: int = 0
    queued: int = 0
    edited: int = 0
    warnings: tuple[str, ...] = ()


def record_items(
    store: Store,
    config: Config,
    feed: FeedConfig,
    articles: Sequence[Article],
    *,
    now: datetime,
    first_poll: bool,
) -> Intake:
    channels = [c.name for c in config.channels_for(feed.name)]
    fresh: list[Article] = []
    queued = edited = 0
    # One read for the whole feed and one write for its new items, not one per item.
    found = store.find_items(feed.name, [(a.item_id, a.url) for a in articles])
    for article, known in zip(articles, found, strict=True):
        if known is None:
            fresh.append(article)
        elif known.content_hash != article.content_hash and known.item_id == article.item_id:
            store.update_item(article, now=now)
            edited += 1
            if feed.on_edit == "correction" and known.title.strip() != article.title.strip():
                queued += queue_correction(store, article, channels, now=now)
    allowed, warnings = _allowed(feed, fresh, now=now, first_poll=first_poll)
    batch = [
        (article, channels if allowed is None or article.item_id in allowed else [])
        for article in fresh
    ]
    batch = _not_posted_by_hand(store, batch)
    store.add_items(batch, now=now)
    for article, targets in batch:
        queued += len(targets)
        log.debug(
            "item recorded feed=%s item=%s queued=%d", feed.name, article.item_id, len(targets)
        )
    return Intake(new=len(fresh), queued=queued, edited=edited, warnings=warnings)


def _not_posted_by_hand(
    store: Store, batch: list[tuple[Article, list[str]]]
) -> list[tuple[Article, list[str]]]:
    """``batch`` less the channels that ``syndbot post`` already took each article's page
    to before the feed listed it (recorded under ``PAGE_FEED``): one page, one post per
    channel. One look-up for the whole poll; the deliveries are read only when a page was
    posted by hand, which is rare."""
    asked = [(article, targets) for article, targets in batch if targets and article.url]
    if not asked:
        return batch
    pages = store.find_items(PAGE_FEED, [(normalise_url(a.url), a.url) for a, _ in asked])
    by_hand = {id(a): page for (a, _), page in zip(asked, pages, strict=True) if page}
    if not by_hand:
        return batch
    sent: dict[str, set[str]] = {}
    for delivery in store.deliveries():
        if delivery.feed == PAGE_FEED:
            sent.setdefault(delivery.item_id, set()).add(delivery.channel)
    out: list[tuple[Article, list[str]]] = []
    for article, targets in batch:
        page = by_hand.get(id(article))
        done = sent.get(page.item_id, set()) if page is not None else set()
        if done & set(targets):
            log.info(
                "posted by hand before feed=%s item=%s listed it: not queued again for %s",
                article.feed,
                article.item_id,
                ", ".join(sorted(done & set(targets))),
            )
        out.append((article, [c for c in targets if c not in done]))
    return out


def _allowed(
    feed: FeedConfig, fresh: list[Article], *, now: datetime, first_poll: bool
) -> tuple[set[str] | None, tuple[str, ...]]:
    """Which unseen items may be queued (None: all of them), and why not, if not."""
    if first_poll:
        return select_for_first_poll(fresh, feed.catch_up, now=now), ()
    if len(fresh) <= feed.max_new:
        return None, ()
    warning = (
        f"{len(fresh)} unseen items at once (more than max_new = {feed.max_new}): queued the "
        f"newest {feed.max_new} and recorded the rest as seen, so the channels are not flooded"
    )
    log.warning("feed flood guard feed=%s %s", feed.name, warning)
    return {a.item_id for a in newest_first(fresh)[: feed.max_new]}, (warning,)


# "Correction" in the languages of our reference site; others get the English word.
_CORRECTION = {"en": "Correction", "hi": "सुधार", "ta": "திருத்தம்", "te": "సవరణ"}


def correction_label(lang: str | None) -> str:
    """The word that starts a correction post, in the article's language when known."""
    return _CORRECTION.get((lang or "en").split("-")[0].lower(), "Correction")


def is_correction(item_id: str) -> bool:
    """True for the item id of a correction post made by ``queue_correction``."""
    return "#correction-" in item_id


def queue_correction(store: Store, article: Article, channels: list[str], *, now: datetime) -> int:
    """Queue a "Correction: ..." post, in the article's language, to the channels that
    carried the article; its id is tied to the new headline, so each headline change is
    posted at most once, even after a restart."""
    digest = hashlib.sha256(article.title.encode()).hexdigest()[:12]
    correction = dataclasses.replace(
        article,
        item_id=f"{article.item_id}#correction-{digest}",
        title=f"{correction_label(article.lang)}: {article.title}",
    )
    if store.find_item(article.feed, correction.item_id) is not None:
        return 0
    posted = {
        d.channel
        for d in store.deliveries(status="sent")
        if d.feed == article.feed and d.item_id == article.item_id
    }
    targets = [c for c in channels if c in posted]  # correct only what went out
    if not targets:
        return 0
    store.add_item(correction, now=now, channels=targets)
    log.info("correction queued feed=%s item=%s", article.feed, article.item_id)
    return len(targets)
