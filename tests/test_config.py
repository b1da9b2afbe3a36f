"""Config loading: shipped files, typed values, and one clear error per mistake."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from xml.etree import ElementTree

import dotenv
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot import registry
from bot.config import (
    UNSUPPORTED_PLATFORMS,
    CatchUp,
    Config,
    Secret,
    load_config,
    load_dotenv_once,
)
from bot.durations import format_duration, parse_duration
from bot.errors import ConfigError

REPO = Path(__file__).resolve().parents[1]
SHIPPED = REPO / "config" / "syndbot.toml"
EXAMPLE = REPO / "config" / "example-site.toml"
ENV_EXAMPLE = REPO / ".env.example"

FEED = '[[feeds]]\nname = "ev-en"\nurl = "https://evnews.example/feed/"\nlang = "en"\n'


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "syndbot.toml"
    path.write_text(text, encoding="utf-8")
    return path


def channel(body: str, name: str = "x-en", platform: str = "x") -> str:
    return f'[[channels]]\nname = "{name}"\nplatform = "{platform}"\n{body}\n'


def fails(path: Path, env: dict[str, str] | None = None) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        load_config(path, env=env if env is not None else {})
    assert info.value.file == str(path)
    assert str(info.value).startswith(str(path))
    return info.value


def example_env() -> dict[str, str]:
    return {name: f"value-of-{name}" for name in dotenv.dotenv_values(ENV_EXAMPLE)}


# --- the shipped files -------------------------------------------------------------------


def test_shipped_config_loads_without_any_environment() -> None:
    """config/syndbot.toml works out of the box: demo feed, every platform to the outbox."""
    config = load_config(SHIPPED, env={})
    assert [f.url for f in config.feeds] == ["builtin:demo"]
    assert config.feeds[0].catch_up == CatchUp("all")
    assert sorted(c.platform for c in config.channels) == sorted(registry.names())
    assert {c.publisher for c in config.channels} == {"outbox"}
    assert {c.outbox for c in config.channels} == {Path("var/outbox.jsonl")}
    assert config.service.deliver_interval == 2.0
    assert config.service.poll_interval == 60.0
    assert len(config.channels_for("demo")) == len(registry.names())


def test_bundled_demo_feed_has_articles_in_four_languages() -> None:
    """bot/demo/feed.xml is well-formed RSS: 6 items (en, hi, ta, te) with full HTML bodies."""
    ns = {
        "dc": "http://purl.org/dc/elements/1.1/",
        "content": "http://purl.org/rss/1.0/modules/content/",
        "media": "http://search.yahoo.com/mrss/",
    }
    channel = ElementTree.parse(REPO / "bot" / "demo" / "feed.xml").getroot().find("channel")
    assert channel is not None
    assert channel.findtext("language") == "en"
    items = channel.findall("item")
    langs = [item.findtext("dc:language", "en", ns) for item in items]
    assert sorted(langs) == ["en", "en", "en", "hi", "ta", "te"]
    for item in items:
        body = item.findtext("content:encoded", "", ns)
        assert "appeared first on" in body
        assert "<img" in body
        assert " alt=" in body
        assert "Nov 2026" in item.findtext("pubDate", "")
        assert item.find("media:content", ns) is not None
        assert item.findtext("guid")
        assert item.findtext("dc:creator", None, ns)


def test_example_site_loads_when_every_variable_is_set() -> None:
    """example-site.toml gives 12 api channels with credentials resolved from env."""
    config = load_config(EXAMPLE, env=example_env())
    assert len(config.channels) == 12
    assert {c.publisher for c in config.channels} == {"api"}
    x_hi = config.channel("x-hi")
    assert x_hi.credentials["api_key"].get() == "value-of-X_HI_API_KEY"
    assert [c.name for c in config.channels_for("ev-ta")] == [
        "x-ta",
        "facebook-ta",
        "instagram-ta",
    ]
    assert config.channel("facebook-en").options["graph_version"] == "v25.0"
    assert ("utm_source", "x") in x_hi.style.utm
    assert config.service.timezone == "Asia/Kolkata"


def test_example_site_fails_naming_the_missing_variable() -> None:
    """A missing env var names the channel's key path, the variable and the .env hint."""
    env = example_env()
    del env["FB_TE_PAGE_TOKEN"]
    err = fails(EXAMPLE, env)
    names = [c["name"] for c in tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))["channels"]]
    assert err.key == f"channels[{names.index('facebook-te')}].credentials.page_token"
    assert "FB_TE_PAGE_TOKEN" in str(err)
    assert "add it to .env (see .env.example)" in str(err)


def test_empty_variable_counts_as_missing() -> None:
    """An empty value (a copied .env.example left blank) is reported like a missing one."""
    env = example_env() | {"X_EN_API_SECRET": "  "}
    err = fails(EXAMPLE, env)
    assert err.key == "channels[0].credentials.api_secret"
    assert "X_EN_API_SECRET" in str(err)


def test_every_variable_in_example_site_is_documented() -> None:
    """Each env var named in example-site.toml appears in .env.example."""
    data = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    named = {v for c in data["channels"] for v in c.get("credentials", {}).values()}
    assert len(named) == 24
    documented = set(dotenv.dotenv_values(ENV_EXAMPLE))
    assert named - documented == set()


def test_example_site_mentions_youtube_without_a_youtube_channel() -> None:
    """The site's YouTube accounts are explained in a comment, never configured."""
    text = EXAMPLE.read_text(encoding="utf-8")
    assert "YouTube has no API for community posts" in text
    platforms = {c["platform"] for c in tomllib.loads(text)["channels"]}
    assert platforms == {"x", "facebook", "instagram"}


# --- secrets -----------------------------------------------------------------------------


def test_secret_values_never_appear_in_repr() -> None:
    """repr/str of the whole Config mask every credential; .get() returns it."""
    config = load_config(EXAMPLE, env=example_env())
    text = repr(config) + str(config) + repr(config.channels)
    assert "value-of-" not in text
    assert "Secret('**********')" in text
    secret = Secret("hunter2")
    assert "hunter2" not in repr(secret) + str(secret) + f"{secret}"
    assert secret.get() == "hunter2"


def test_outbox_channel_needs_no_credentials(tmp_path: Path) -> None:
    """publisher = "outbox" ignores credentials and required options entirely."""
    body = 'publisher = "outbox"\n[channels.credentials]\napi_key = "NOT_SET_ANYWHERE"\n'
    config = load_config(write(tmp_path, FEED + channel(body)), env={})
    assert config.channels[0].credentials == {}
    fb = channel('publisher = "outbox"', name="fb", platform="facebook")
    assert load_config(write(tmp_path, FEED + fb), env={}).channels[0].options == {}


def test_pasted_secret_is_refused_without_being_echoed(tmp_path: Path) -> None:
    """A credential value that is not a variable name is rejected; the value is not shown."""
    body = '[channels.credentials]\napi_key = "abc123/secret+value=="\n'
    err = fails(write(tmp_path, FEED + channel(body)))
    assert err.key == "channels[0].credentials.api_key"
    assert "NAME of an environment variable" in str(err)
    assert "abc123" not in str(err)


def test_api_channel_without_credential_key_suggests_a_variable(tmp_path: Path) -> None:
    """A missing credentials entry names the key and proposes an env var name."""
    err = fails(write(tmp_path, FEED + channel("", name="x-hi")))
    assert err.key == "channels[0].credentials.api_key"
    assert 'api_key = "X_HI_API_KEY"' in str(err)


# --- validation errors -------------------------------------------------------------------


def test_toml_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    """Broken TOML reports the file and the line number."""
    err = fails(write(tmp_path, FEED + "[[channels]]\nname = \n"))
    assert "line 6" in str(err)
    assert "not valid TOML" in str(err)


@pytest.mark.parametrize(
    ("text", "key", "hint"),
    [
        (FEED + '[service]\npol_interval = "1m"\n', "service.pol_interval", '"poll_interval"'),
        (FEED + channel('publisher = "outbox"\nhashtag = 2'), "channels[0].hashtag", '"hashtags"'),
        (FEED.replace("lang", "langauge"), "feeds[0].langauge", '"lang"'),
        ('[[feed]]\nname = "a"\nurl = "builtin:demo"\n', "feed", '"feeds"'),
    ],
)
def test_unknown_key_suggests_the_closest(tmp_path: Path, text: str, key: str, hint: str) -> None:
    """A typo in any table is an error proposing the closest known key."""
    err = fails(write(tmp_path, text))
    assert err.key == key
    assert f"did you mean {hint}?" in str(err)


@pytest.mark.parametrize(
    ("body", "key", "expected"),
    [
        ('hashtags = "two"', "channels[0].hashtags", "expected an integer"),
        ('thread = "yes"', "channels[0].thread", "expected true or false"),
        ("max_chars = true", "channels[0].max_chars", "expected an integer"),
        ('feeds = "ev-en"', "channels[0].feeds", "expected an array of strings"),
        ("utm = { utm_source = 1 }", "channels[0].utm.utm_source", "expected a string"),
        ("summary_chars = 0", "channels[0].summary_chars", "at least 1"),
    ],
)
def test_wrong_type_names_key_and_expected_type(
    tmp_path: Path, body: str, key: str, expected: str
) -> None:
    """A value of the wrong type says which key and what type was expected."""
    err = fails(write(tmp_path, FEED + channel('publisher = "outbox"\n' + body)))
    assert err.key == key
    assert expected in str(err)


@pytest.mark.parametrize(
    ("line", "key"),
    [
        ('poll_interval = "10x"', "service.poll_interval"),
        ('jitter = "-5s"', "service.jitter"),
        ("deliver_interval = 0", "service.deliver_interval"),
        ("timeout = true", "service.timeout"),
    ],
)
def test_bad_duration_is_rejected(tmp_path: Path, line: str, key: str) -> None:
    """Durations that do not parse, are negative or zero where not allowed are errors."""
    err = fails(write(tmp_path, f"[service]\n{line}\n" + FEED))
    assert err.key == key
    assert '"30s", "10m"' in str(err) or "negative" in str(err)


def test_duplicate_feed_name(tmp_path: Path) -> None:
    """Two feeds with one name: error on the second one's name."""
    err = fails(write(tmp_path, FEED + FEED))
    assert err.key == "feeds[1].name"
    assert 'duplicate feed name "ev-en"' in str(err)


def test_duplicate_channel_name(tmp_path: Path) -> None:
    """Two channels with one name: error on the second one's name."""
    block = channel('publisher = "outbox"')
    err = fails(write(tmp_path, FEED + block + block))
    assert err.key == "channels[1].name"
    assert 'duplicate channel name "x-en"' in str(err)


def test_channel_naming_unknown_feed(tmp_path: Path) -> None:
    """A channel's feeds entry must name a defined feed; the closest one is suggested."""
    err = fails(write(tmp_path, FEED + channel('publisher = "outbox"\nfeeds = ["ev-eng"]')))
    assert err.key == "channels[0].feeds[0]"
    assert 'no feed named "ev-eng"; did you mean "ev-en"?' in str(err)


def test_unknown_platform_lists_the_valid_ones(tmp_path: Path) -> None:
    """An unknown platform suggests the closest and lists all valid platforms."""
    err = fails(write(tmp_path, FEED + channel('publisher = "outbox"', platform="mastadon")))
    assert err.key == "channels[0].platform"
    assert 'did you mean "mastodon"?' in str(err)
    assert ", ".join(registry.names()) in str(err)


def test_twitter_alias_points_to_x(tmp_path: Path) -> None:
    """platform = "twitter" tells the user to write "x"."""
    err = fails(write(tmp_path, FEED + channel('publisher = "outbox"', platform="twitter")))
    assert 'write platform = "x"' in str(err)


@pytest.mark.parametrize("platform", ["youtube", "whatsapp"])
def test_platforms_without_api_are_rejected_with_one_sentence(
    tmp_path: Path, platform: str
) -> None:
    """YouTube and WhatsApp are refused with one sentence saying there is no API."""
    err = fails(write(tmp_path, FEED + channel('publisher = "outbox"', platform=platform)))
    assert err.key == "channels[0].platform"
    assert err.detail == UNSUPPORTED_PLATFORMS[platform]
    assert err.detail.count(".") == 1
    assert err.detail.endswith("instead.")
    assert "no API" in err.detail


def test_youtube_sentence_is_the_documented_one(tmp_path: Path) -> None:
    """The YouTube message reads exactly as the docs promise."""
    err = fails(write(tmp_path, FEED + channel("", platform="youtube")))
    assert str(err).endswith(
        "YouTube has no API for community posts, so syndbot cannot post there; list the "
        "channel in a comment, or post to X, Facebook, Instagram, Threads, Mastodon, "
        "Bluesky or Telegram instead."
    )


@pytest.mark.parametrize(
    ("platform", "credentials", "option"),
    [
        ("facebook", 'page_token = "FB"', "page_id"),
        ("instagram", 'access_token = "IG"', "ig_user_id"),
        ("mastodon", 'access_token = "MA"', "instance"),
        ("threads", 'access_token = "TH"', "user_id"),
        ("linkedin", 'access_token = "LI"', "organization"),
        ("telegram", 'bot_token = "TG"', "chat_id"),
    ],
)
def test_api_channel_missing_required_option(
    tmp_path: Path, platform: str, credentials: str, option: str
) -> None:
    """Each platform's required option is demanded for api channels, by key path."""
    body = f'publisher = "api"\n[channels.credentials]\n{credentials}\n'
    env = {credentials.split('"')[1]: "token"}
    err = fails(write(tmp_path, FEED + channel(body, name="c", platform=platform)), env)
    assert err.key == f"channels[0].options.{option}"
    assert "[channels.options]" in str(err)


def test_bluesky_gets_default_pds_and_options_become_strings(tmp_path: Path) -> None:
    """Bluesky defaults options.pds; integer/boolean options are stored as strings."""
    creds = '[channels.credentials]\nhandle = "BSKY_HANDLE"\napp_password = "BSKY_PW"\n'
    opts = "[channels.options]\nretries = 3\nlabels = false\n"
    text = FEED + channel(creds + opts, name="sky", platform="bluesky")
    config = load_config(write(tmp_path, text), env={"BSKY_HANDLE": "a", "BSKY_PW": "b"})
    assert config.channels[0].options == {
        "pds": "https://bsky.social",
        "retries": "3",
        "labels": "false",
    }


def test_secret_looking_option_is_refused(tmp_path: Path) -> None:
    """A token placed in [channels.options] is pointed to [channels.credentials]."""
    text = FEED + channel('publisher = "outbox"\n[channels.options]\naccess_token = "abc"')
    err = fails(write(tmp_path, text))
    assert err.key == "channels[0].options.access_token"
    assert "[channels.credentials]" in str(err)


def test_unknown_credential_key_suggests_the_platforms_key(tmp_path: Path) -> None:
    """A misspelt credential name is caught with the platform's real key suggested."""
    text = FEED + channel('[channels.credentials]\napi_keys = "X_EN_API_KEY"')
    err = fails(write(tmp_path, text))
    assert err.key == "channels[0].credentials.api_keys"
    assert 'did you mean "api_key"?' in str(err)


def test_template_with_unknown_placeholder(tmp_path: Path) -> None:
    """Templates may only use the documented placeholders."""
    text = FEED + channel('publisher = "outbox"\ntemplate = "{title} {link}"')
    err = fails(write(tmp_path, text))
    assert err.key == "channels[0].template"
    assert 'unknown placeholder "{link}"' in str(err)


def test_outbox_key_on_api_channel_is_refused(tmp_path: Path) -> None:
    """outbox = ... only makes sense with publisher = "outbox"."""
    err = fails(write(tmp_path, FEED + channel('outbox = "x.jsonl"')))
    assert err.key == "channels[0].outbox"


def test_feeds_written_as_single_table(tmp_path: Path) -> None:
    """[feeds] instead of [[feeds]] is explained."""
    err = fails(write(tmp_path, FEED.replace("[[feeds]]", "[feeds]")))
    assert err.key == "feeds"
    assert "write [[feeds]]" in str(err)


def test_no_feeds_is_an_error(tmp_path: Path) -> None:
    """A config without any feed says how to add one."""
    err = fails(write(tmp_path, '[service]\npoll_interval = "1m"\n'))
    assert err.key == "feeds"
    assert "builtin:demo" in str(err)


@pytest.mark.parametrize(
    ("line", "key"),
    [
        ('url = "ftp://evnews.example/feed"', "feeds[0].url"),
        ('url = "builtin:other"', "feeds[0].url"),
        ('name = "EV News"', "feeds[0].name"),
        ('catch_up = "latest:0"', "feeds[0].catch_up"),
        ('catch_up = "newer:soon"', "feeds[0].catch_up"),
        ('full_text = "sometimes"', "feeds[0].full_text"),
        ('lang = "english language"', "feeds[0].lang"),
    ],
)
def test_bad_feed_values(tmp_path: Path, line: str, key: str) -> None:
    """Feed URL, name, catch_up, full_text and lang are checked."""
    text = '[[feeds]]\nname = "ev-en"\nurl = "https://evnews.example/feed/"\n'
    field = line.split(" = ", maxsplit=1)[0]
    lines = [ln for ln in text.splitlines() if not ln.startswith(f"{field} =")]
    err = fails(write(tmp_path, "\n".join([*lines, line]) + "\n"))
    assert err.key == key


def test_unknown_timezone(tmp_path: Path) -> None:
    """service.timezone must be an IANA zone name."""
    err = fails(write(tmp_path, '[service]\ntimezone = "India/Delhi"\n' + FEED))
    assert err.key == "service.timezone"
    assert "Asia/Kolkata" in str(err)


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    """A config path that does not exist is a ConfigError naming it."""
    err = fails(tmp_path / "nope.toml")
    assert "file not found" in str(err)


def test_a_directory_given_as_the_config_says_to_name_the_file(tmp_path: Path) -> None:
    """--config DIR names DIR, says it is a directory and what to pass instead."""
    err = fails(tmp_path)
    assert str(err).startswith(f"{tmp_path}: is a directory")
    assert str(tmp_path / "syndbot.toml") in str(err)


# --- typed values ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "mode", "count", "seconds"),
    [
        ("newest", "newest", 0, 0.0),
        ("none", "none", 0, 0.0),
        ("all", "all", 0, 0.0),
        ("latest:3", "latest", 3, 0.0),
        ("newer:2d", "newer", 0, 172800.0),
    ],
)
def test_catch_up_rules_parse(
    tmp_path: Path, raw: str, mode: str, count: int, seconds: float
) -> None:
    """Every documented catch_up spelling becomes the matching CatchUp."""
    text = "channels = []\n" + FEED + f'catch_up = "{raw}"\n'
    config = load_config(write(tmp_path, text), env={})
    assert config.feeds[0].catch_up == CatchUp(mode, count, seconds)  # type: ignore[arg-type]


def test_defaults_fill_service_feed_and_style(tmp_path: Path) -> None:
    """Omitted keys take the documented defaults; feed interval follows poll_interval."""
    text = '[service]\npoll_interval = "2h"\n' + FEED + channel('publisher = "outbox"')
    config = load_config(write(tmp_path, text), env={})
    feed, chan = config.feeds[0], config.channels[0]
    assert feed.interval == 7200.0
    assert (feed.catch_up.mode, feed.full_text, feed.on_edit) == ("newest", "auto", "ignore")
    assert chan.feeds is None
    assert chan.accepts("anything")
    assert chan.style.platform == "x"
    assert chan.style.link_in_bio == "Link in bio"
    assert chan.style.include_image
    assert chan.min_interval == 0.0
    assert config.service.database == Path("var/syndbot.db")


def test_style_is_built_from_channel_keys(tmp_path: Path) -> None:
    """template/hashtags/utm/thread/max_chars/summary_chars/link_in_bio/image reach the style."""
    body = "\n".join(
        [
            'publisher = "outbox"',
            'feeds = ["ev-en"]',
            'template = "{title}\\n{url}"',
            "hashtags = 0",
            'utm = { utm_source = "ig", utm_medium = "social" }',
            "thread = true",
            "max_chars = 1000",
            "summary_chars = 120",
            'link_in_bio = "बायो में लिंक"',
            "image = false",
            'min_interval = "5m"',
            "max_posts_per_day = 50",
        ]
    )
    config = load_config(write(tmp_path, FEED + channel(body, platform="instagram")), env={})
    chan = config.channels[0]
    style = chan.style
    assert style.template == "{title}\n{url}"
    assert style.max_hashtags == 0
    assert style.utm == (("utm_source", "ig"), ("utm_medium", "social"))
    assert style.thread
    assert not style.include_image
    assert (style.max_chars, style.summary_chars) == (1000, 120)
    assert style.link_in_bio == "बायो में लिंक"
    assert (chan.min_interval, chan.max_posts_per_day, chan.max_posts_per_hour) == (300.0, 50, None)
    assert chan.accepts("ev-en")
    assert not chan.accepts("ev-hi")


def test_lookup_of_unknown_feed_suggests_a_name() -> None:
    """Config.feed/channel raise ConfigError naming real names."""
    config = load_config(SHIPPED, env={})
    assert isinstance(config, Config)
    with pytest.raises(ConfigError, match='did you mean "demo"'):
        config.feed("dmeo")
    with pytest.raises(ConfigError, match="channels in this file"):
        config.channel("tiktok")


@pytest.mark.parametrize(
    ("raw", "seconds"),
    [
        ("30s", 30.0),
        ("10m", 600.0),
        ("2h", 7200.0),
        ("1d", 86400.0),
        ("1h30m", 5400.0),
        ("1.5h", 5400.0),
        (" 90 ", 90.0),
        (45, 45.0),
        (2.5, 2.5),
        ("0s", 0.0),
    ],
)
def test_durations_parse(raw: object, seconds: float) -> None:
    """Documented duration spellings become float seconds."""
    assert parse_duration(raw) == seconds


@pytest.mark.parametrize("raw", ["10x", "", "m", "10 minutes", "-1m", -3, True, None, [1]])
def test_bad_durations_raise(raw: object) -> None:
    """Anything else raises ValueError with the accepted forms."""
    with pytest.raises(ValueError, match="duration"):
        parse_duration(raw)


@given(st.integers(min_value=0, max_value=10**8))
def test_format_duration_round_trips(seconds: int) -> None:
    """format_duration output parses back to the same number of seconds."""
    assert parse_duration(format_duration(seconds)) == seconds


# --- .env loading ------------------------------------------------------------------------


def test_load_dotenv_once_never_overrides_and_loads_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Existing variables win over .env, and a second call does not re-read the file."""
    env_file = tmp_path / ".env"
    env_file.write_text("SYNDBOT_T_KEEP=from-file\nSYNDBOT_T_NEW=from-file\n", encoding="utf-8")
    monkeypatch.setenv("SYNDBOT_T_KEEP", "from-shell")
    monkeypatch.setenv("SYNDBOT_T_NEW", "placeholder")
    monkeypatch.delenv("SYNDBOT_T_NEW")  # registered for restore, so the test leaves no trace
    assert load_dotenv_once(env_file) is True
    assert os.environ["SYNDBOT_T_KEEP"] == "from-shell"
    assert os.environ["SYNDBOT_T_NEW"] == "from-file"
    monkeypatch.setenv("SYNDBOT_T_NEW", "changed")
    assert load_dotenv_once(env_file) is False
    assert os.environ["SYNDBOT_T_NEW"] == "changed"


def test_load_dotenv_once_tolerates_a_missing_file(tmp_path: Path) -> None:
    """No .env is normal on servers that set variables themselves."""
    assert load_dotenv_once(tmp_path / "absent.env") is False


@pytest.mark.parametrize("url", ["http://[::1/feed", "https://evnews.example:port/feed/"])
def test_a_feed_url_that_cannot_be_parsed_is_a_config_error(tmp_path: Path, url: str) -> None:
    """A feed url with a broken IPv6 host or port is refused at load, naming the key, so
    the service never polls it (it raised ValueError from deep inside a poll)."""
    err = fails(write(tmp_path, f'[[feeds]]\nname = "f"\nurl = "{url}"\n'))
    assert err.key == "feeds[0].url"
    assert "is not a valid URL" in str(err)
