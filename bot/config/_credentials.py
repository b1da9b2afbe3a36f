"""``[channels.credentials]``: environment variable NAMES in, ``Secret`` values out.

The file holds names only (``page_token = "FB_EN_PAGE_TOKEN"``); the values live in
``.env`` or the service's environment. An operator who pastes the token itself must not
see it again in a terminal, a log or a CI transcript, so a value that is not a variable
name, or that looks like a token, is refused without ever being echoed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from bot.config._section import Section
from bot.config.model import _ENV_NAME, DOTENV_HINT, Publisher, Secret
from bot.errors import ConfigError

# Prefixes that real tokens start with (Facebook/Instagram/Threads/LinkedIn Graph tokens,
# X bearer tokens, GitHub, Slack, GitLab, OpenAI-style and AWS keys).
_TOKEN_PREFIXES = (
    *("EAA", "IGQV", "IGAA", "THAA", "THQV", "AQV", "AAAAAAAA", "AKIA", "ASIA"),
    *("ghp_", "gho_", "ghu_", "ghs_", "github_pat_", "xox", "glpat-", "sk-"),
)


class MissingCredential(ConfigError):
    """A channel's credential is not named in the file or its variable is not set.

    Fatal for the service, but ``channels check`` reports it on the channel's row and goes on
    with the others; ``problem`` and ``advice`` are the two halves of the message.
    """

    def __init__(self, problem: str, advice: str, *, file: str, key: str) -> None:
        super().__init__(f"{problem}; {advice}", file=file, key=key)
        self.problem = problem
        self.advice = advice


def looks_like_secret(value: str) -> bool:
    """True for a token-shaped string, False for a name like ``X_EN_API_KEY``.

    Variable names are short upper-case words joined by ``_``; tokens are long runs that mix
    letters and digits or both cases. A name that trips this is easy to rename; a token
    that slips through would be printed back in the "not set" message.
    """
    if not _ENV_NAME.fullmatch(value):
        return True  # ":", "-", "/", "=" or a leading digit: no shell accepts it as a name
    if len(value) >= 16 and value.startswith(_TOKEN_PREFIXES):
        return True
    for run in value.split("_"):
        letters = any(c.isalpha() for c in run)
        digits = any(c.isdigit() for c in run)
        mixed_case = any(c.islower() for c in run) and any(c.isupper() for c in run)
        if len(run) >= 16 and letters and digits and not run.isupper():
            return True
        if len(run) >= 20 and mixed_case:
            return True
        if len(run) >= 32:
            return True
    return False


def secret_from_env(
    sec: Section, key: str, env: Mapping[str, str], *, example: str, what: str
) -> Secret | None:
    """The secret held by the environment variable whose NAME ``sec[key]`` gives (None
    without the key). A value that looks like the secret itself is refused, never echoed."""
    name = sec.optional_text(key)
    if name is None:
        return None
    if looks_like_secret(name):
        raise sec.error(
            key,
            "this looks like a secret value; put the NAME of an environment variable here "
            f'(e.g. "{example}") and the {what} in .env (see .env.example)',
        )
    value = env.get(name, "").strip()
    if not value:
        raise sec.error(key, f"the environment variable {name} is not set or empty; {DOTENV_HINT}")
    return Secret(value)


def credential_names(platform: str) -> tuple[str, ...]:
    """The logical credential names ``platform`` declares (``api_key``, ``bot_token``...)."""
    from bot import registry  # the platform modules import this package

    return registry.platforms()[platform].credentials


def variable_names(table: Section, channel: str, platform: str) -> dict[str, str]:
    """Credential key -> environment variable name, each checked to be a plain name."""
    table.check_known(credential_names(platform))
    names: dict[str, str] = {}
    for key in table:
        value = table.data[key]
        # Never echo the value: whoever pasted the secret itself must not see it printed.
        if not isinstance(value, str) or looks_like_secret(value):
            raise table.error(
                key,
                "this looks like a secret value; put the NAME of an environment variable "
                f"here (e.g. {suggest_name(channel, key)}) and the value in .env "
                "(see .env.example)",
            )
        names[key] = value
    return names


def resolve_credentials(
    table: Section,
    channel: str,
    platform: str,
    publisher: Publisher,
    env: Mapping[str, str],
) -> dict[str, Secret]:
    """The channel's secrets read from ``env``; one ``ConfigError`` naming what is missing."""
    names = variable_names(table, channel, platform)
    if publisher == "outbox":
        return {}
    for key in credential_names(platform):
        if key not in names:
            raise MissingCredential(
                f'channel "{channel}" ({platform}, publisher "api") needs {key} = '
                f'"{suggest_name(channel, key)}" in [channels.credentials]',
                "add that line, then set the variable in .env (see .env.example)",
                file=table.file,
                key=table.key(key),
            )
    missing = [k for k in credential_names(platform) if not env.get(names[k], "").strip()]
    if missing:
        raise _not_set(table, channel, [(k, names[k]) for k in missing])
    return {k: Secret(env[names[k]].strip()) for k in credential_names(platform)}


def _not_set(table: Section, channel: str, missing: list[tuple[str, str]]) -> ConfigError:
    first_key = missing[0][0]
    keys = ", ".join(k for k, _ in missing)
    variables = ", ".join(v for _, v in missing)
    if len(missing) == 1:
        problem = f"the environment variable {variables}, which is not set or empty"
        advice = DOTENV_HINT
    else:
        problem = f"the environment variables {variables}, which are not set or empty"
        advice = "add them to .env (see .env.example)"
    return MissingCredential(
        f'channel "{channel}" reads {keys} from {problem}',
        advice,
        file=table.file,
        key=table.key(first_key),
    )


def suggest_name(channel: str, key: str) -> str:
    """``X_EN_API_KEY`` for channel ``x-en`` and key ``api_key``."""
    return re.sub(r"[^A-Z0-9]+", "_", f"{channel}_{key}".upper())
