"""Hashtags from article tags: CamelCase, Indic scripts intact, deduplicated, capped."""

from __future__ import annotations

import pytest

from bot.compose.hashtags import make_hashtags, sanitise_tag


@pytest.mark.parametrize(
    ("tag", "body"),
    [
        ("Charging Infrastructure", "ChargingInfrastructure"),
        ("electric vehicles", "ElectricVehicles"),
        ("EV", "EV"),
        ("eMobility", "eMobility"),
        ("iPhone/iPad", "iPhoneiPad"),
        ("iOS Apps", "iOSApps"),
        ("eMobility hubs", "eMobilityHubs"),
        ("EV charging", "EVCharging"),
        ("Tata Motors' new EV!", "TataMotorsNewEV"),
        ("R&amp;D", "RD"),
        ("इलेक्ट्रिक वाहन", "इलेक्ट्रिकवाहन"),
        ("மின்சார வாகனம்", "மின்சாரவாகனம்"),
        ("విద్యుత్ వాహనం", "విద్యుత్వాహనం"),
        ("EV-2024", "EV2024"),
        ("2024", ""),
        ("#", ""),
        ("", ""),
        ("   ", ""),
        ("a" * 41, ""),
    ],
)
def test_sanitise_tag(tag: str, body: str) -> None:
    """Words are joined CamelCase, punctuation goes, Indic combining marks stay."""
    assert sanitise_tag(tag) == body


def test_devanagari_marks_are_not_split() -> None:
    """The virama and vowel signs of a Hindi tag stay attached: nothing is lost."""
    body = sanitise_tag("चार्जिंग स्टेशन")
    assert body == "चार्जिंगस्टेशन"
    assert "\u094d" in body  # virama kept


def test_leading_combining_mark_is_dropped() -> None:
    """A tag starting with a stray vowel sign does not glue that sign to the '#'."""
    assert sanitise_tag("\u093eकार") == "कार"


def test_make_hashtags_dedupes_case_insensitively_and_caps() -> None:
    """First spelling wins, duplicates and empties are skipped, at most ``limit`` come back."""
    tags = [
        "EV",
        "ev",
        "2024",
        "Charging Infrastructure",
        "charginginfrastructure",
        "Tata",
        "Hindi",
    ]
    assert make_hashtags(tags, 3) == ("EV", "ChargingInfrastructure", "Tata")
    assert make_hashtags(tags, 0) == ()


def test_inner_capitals_survive_joining_and_case_duplicates_still_go() -> None:
    """A word with a capital after its first letter keeps its spelling when words are
    joined ("iPhone/iPad" -> iPhoneiPad, not IPhoneIPad); tags differing only by case
    still give one hashtag, and different words next to each other all stay."""
    tags = ["iPhone", "iPhone/iPad", "iphone ipad", "IPHONE", "iOS Apps", "ios apps"]
    assert make_hashtags(tags, 10) == ("iPhone", "iPhoneiPad", "iOSApps")


@pytest.mark.parametrize(
    "tag", ["Uncategorized", "uncategorized", "UNCATEGORIZED", " Uncategorized ", "Uncategorised"]
)
def test_wordpress_default_category_is_no_hashtag(tag: str) -> None:
    """WordPress's default category ("Uncategorized", any case, either spelling) says
    nothing about the article: it gives no hashtag, and the next tag takes its place."""
    assert sanitise_tag(tag) == ""
    assert make_hashtags([tag, "Electric Vehicles", "Tata"], 2) == ("ElectricVehicles", "Tata")
