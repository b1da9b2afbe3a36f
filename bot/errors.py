"""syndbot's own error tree. Vendor errors are translated at the edge, ``raise ... from``.

SyndbotError
├── ConfigError          bad config file / key / env var (names file, key path, fix)
├── FeedError            one feed could not be fetched or parsed (names the URL)
│   ├── FetchError       network, HTTP status, size/time limit, blocked address
│   └── ParseError       not a feed we can read
├── ExtractError         an article page gave no usable text
├── StoreError           the state database cannot be used
├── LlmError             the summary endpoint failed: the extractive summary is used
│   └── LlmTimeout       no answer within the request timeout or the article's max_wait
└── PublishError         a channel refused or failed a post
    ├── RateLimited      retry after ``retry_after`` seconds
    ├── AuthError        credentials expired/revoked: pause the channel
    ├── Rejected         the platform will never accept this post: do not retry
    │   └── Skipped      this channel cannot take this article (e.g. no usable image)
    ├── AlreadyPosted    the platform says it already has this post (not a failure)
    └── Transient        network or 5xx: retry with backoff
"""

from __future__ import annotations


class SyndbotError(Exception):
    """Base of every error syndbot raises on purpose."""


class ConfigError(SyndbotError):
    """A config file, key or environment variable is wrong.

    ``str(err)`` reads ``file: key.path: what is wrong; what to do``.
    """

    def __init__(self, message: str, *, file: str | None = None, key: str | None = None) -> None:
        self.file = file
        self.key = key
        self.detail = message
        where = ": ".join(p for p in (file, key) if p)
        super().__init__(f"{where}: {message}" if where else message)


class FeedError(SyndbotError):
    """A feed could not be read. ``url`` names it."""

    def __init__(self, message: str, *, url: str = "") -> None:
        self.url = url
        super().__init__(f"{url}: {message}" if url else message)


class FetchError(FeedError):
    """Network failure, bad HTTP status, size or time limit exceeded, blocked address."""


class ParseError(FeedError):
    """The document is not a feed we can read."""


class ExtractError(SyndbotError):
    """An article page gave no usable text."""


class StoreError(SyndbotError):
    """The state database cannot be opened or migrated."""


class LlmError(SyndbotError):
    """The ``[llm]`` endpoint refused, failed or gave an unreadable answer."""


class LlmTimeout(LlmError):
    """The ``[llm]`` endpoint did not answer in time."""


class PublishError(SyndbotError):
    """A channel failed to publish a post."""

    retryable: bool = False

    def __init__(self, message: str, *, channel: str = "") -> None:
        self.channel = channel
        super().__init__(message)


class RateLimited(PublishError):
    """The platform asked us to wait ``retry_after`` seconds."""

    retryable = True

    def __init__(self, message: str, *, retry_after: float, channel: str = "") -> None:
        super().__init__(message, channel=channel)
        self.retry_after = retry_after


class AuthError(PublishError):
    """Credentials are missing, expired or revoked: the channel is paused."""


class Rejected(PublishError):
    """The platform will never accept this post as it is."""


class Skipped(Rejected):
    """This channel cannot take this article; the reason tells a person what to change."""


class AlreadyPosted(PublishError):
    """The platform already has this post (e.g. X 'duplicate content')."""

    def __init__(
        self,
        message: str,
        *,
        channel: str = "",
        remote_id: str | None = None,
        url: str | None = None,
    ) -> None:
        super().__init__(message, channel=channel)
        self.remote_id = remote_id
        self.url = url


class Transient(PublishError):
    """Network trouble or a server error: retry with backoff.

    ``maybe_sent`` marks trouble after the request went out (a read timeout, a dropped
    connection): the platform may have published the post without answering.
    """

    retryable = True

    def __init__(self, message: str, *, channel: str = "", maybe_sent: bool = False) -> None:
        super().__init__(message, channel=channel)
        self.maybe_sent = maybe_sent
