"""Sealed state: readable only with the secret from the environment."""

from bot.sealed import seal, unseal


def test_round_trip_with_the_same_secret_and_context() -> None:
    """What is sealed comes back with the same secret and context."""
    token = seal({"refresh": "r-123", "did": "did:plc:x"}, secret="app-pw", context="bsky")
    assert unseal(token, secret="app-pw", context="bsky") == {
        "refresh": "r-123",
        "did": "did:plc:x",
    }


def test_the_token_does_not_contain_the_data() -> None:
    """The sealed token does not show the values it holds."""
    token = seal({"refresh": "r-SECRET-VALUE"}, secret="app-pw", context="bsky")
    assert "r-SECRET-VALUE" not in token
    assert "app-pw" not in token


def test_another_secret_or_context_cannot_read_it() -> None:
    """A rotated password or another channel gets None, not an error."""
    token = seal({"a": 1}, secret="old-pw", context="bsky-main")
    assert unseal(token, secret="new-pw", context="bsky-main") is None
    assert unseal(token, secret="old-pw", context="bsky-other") is None


def test_a_damaged_token_is_none() -> None:
    """A truncated or edited token reads as None."""
    token = seal({"a": 1}, secret="pw", context="c")
    assert unseal(token[:-5], secret="pw", context="c") is None
    assert unseal("not a token", secret="pw", context="c") is None
