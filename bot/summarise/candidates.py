"""Which of an article's sentences are worth scoring, and which lean on the one before.

Feeds leak furniture into article text: bylines and timestamps, wire datelines
("WASHINGTON (Reuters) - "), headings without a full stop, "(pictured)" pointers at
images the post will not show, sentences that only point at a link the post will not
carry ("Read our summary of the full survey.", "… is on our Kestrel Ridge page."), and
halves of a quotation the splitter cut in two. They are left out here, before any scoring,
unless nothing else is left.
"""

from __future__ import annotations

import re

import regex

from bot.summarise.sentences import split_sentences
from bot.summarise.text import is_boilerplate

_WORD = regex.compile(r"[\p{L}\p{M}\p{N}]+")
_COMPLETE = regex.compile(r"[.!?…।॥。！？][\"'”’»›)\]]*$")  # what ``ends_complete`` tells
_STOP_TUPLE = tuple(".!?…।॥。！？")
_CLOSERS = "\"'”’»›)]"
_LETTERS = regex.compile(r"\p{L}")
# "injuries ." / "word ," come from inline tags closed after a space: glue them back.
_SPACE_BEFORE_PUNCT = regex.compile(r"(?<=[\p{L}\p{M}\p{N}])\s+([.,;:!?।॥])(?=\s|$)")
# What ``_SPACE_BEFORE_PUNCT`` needs, for the quick test that skips most sentences.
_SPACED_PUNCT = re.compile(r"\s[.,;:!?।॥]")
# "(CNN) -- ", "WASHINGTON (Reuters) - ", "NEW DELHI: ": wire-copy datelines add nothing.
_DATELINE = regex.compile(
    r"^(?:\p{Lu}[\p{Lu}\p{M} .,'-]{1,40}\s*)?\((?:\p{Lu}[\p{L}.]{1,15})\)\s*(?:--|[-–—:])\s+"
    r"|^\p{Lu}[\p{Lu} .'-]{2,30}(?:,\s*\p{Lu}[\p{L} .]{2,30})?\s*(?:--|[–—:])\s+"
)
# "By Jane Doe for MailOnline .", "UPDATED: 15:36 EST, 25 October 2013": no lower-case words.
_BYLINE = regex.compile(
    r"^(?:by|updated|published|posted|last updated)\b[\s:.]*"
    r"(?:[\p{Lu}\d|:.,-]\S*\s*|(?:for|and|at|on)\s+)*$",
    regex.IGNORECASE,
)


# Openings that lean on the sentence before ("But …", "So …", "For example, …"): out of
# context they read as a non sequitur, so such a sentence only goes with its predecessor.
_DEPENDENT = regex.compile(
    r"^[\"'“‘]?(?:(?:and|but|so|or|yet|also|then|still|however|meanwhile|instead|moreover"
    r"|furthermore|therefore|thus|hence|besides|oh|otherwise)\b(?!-)"
    r"|for (?:example|instance)\b|in (?:addition|contrast)\b|on the other hand\b"
    r"|लेकिन|मगर|इसलिए|हालांकि|वहीं|ஆனால்|எனவே|மேலும்|కానీ|అయితే|అందువల్ల)",
    regex.IGNORECASE,
)
# "(pictured)", "(left)", "(file photo)": pointers at images a post does not carry.
_PHOTO_REFERENCE = regex.compile(
    r"\s+\((?:(?:pictured|seen|shown)(?:\s+(?:left|right|centre|center|above|below|top"
    r"|bottom|here|together|second (?:left|right)|far (?:left|right)))?|left|right|centre"
    r"|center|above|below|top|bottom|inset|file (?:photo|picture|image)|फाइल फोटो|फ़ाइल फ़ोटो"
    r"|फोटो|तस्वीर|கோப்புப் படம்|படம்|ఫైల్ ఫోటో|ఫోటో)\)(?=[\s.,;:!?'\"’”]|$)",
    regex.IGNORECASE,
)

# Sentences whose point is a link the post will not carry: "Read our summary of the full
# survey.", "The full specification sheet is on our Kestrel Ridge page.", "Click here.",
# "For more details, see …", "पूरी सूची हमारे सब्सिडी पेज पर है।", "… எங்கள் வரைபடத்தில்
# பார்க்கலாம்.", "… మా ఛార్జింగ్ మ్యాప్‌లో చూడవచ్చు.". Conservative: a pointer verb opening
# the sentence, or "our/this … page" (Indian scripts: "हमारे/எங்கள்/మా … page-on") with
# nothing after it but a copula or "can be seen/read"; "The map shows 40 new stations"
# and "… will open its new page of EV history" are news and stay.
# The feed's HTML would tell a sentence ending in an <a> anchor, but ``html_to_text``
# flattens anchors before sentences exist, and "according to <a>a Reuters report</a>." is
# news: the wording decides.
_POINTER_PARTS = {
    # What a pointer points at.
    "<NOUN>": (
        r"(?:web\s?)?(?:page|pages|site|portal|map|maps|story|stories|article|articles|report"
        r"|summary|explainer|guide|coverage|live\s?blog|blog|post|feature|piece|analysis"
        r"|review|interview|gallery|video|videos|podcast|newsletter|link|links|section|list"
        r"|tracker|database|timeline|table|chart|calculator|sheet|website|channel|app|feed)"
    ),
    "<VERB>": (
        r"(?:read|see|find|check(?:\s+out)?|visit|view|explore|browse|watch|listen\s+to"
        r"|head(?:\s+over)?\s+to|go\s+to|click|tap|download|sign\s+up|subscribe)"
    ),
    "<WORDS>": r"(?:[\w’'&-]+\s+){0,4}?",  # "our <Kestrel Ridge> page"
    "<END>": r"\s*[.!:।]?[\"'”’)\]]*\s*$",  # nothing after the pointer but punctuation
}


def _pointer_pattern(*alternatives: str, flags: int = 0) -> regex.Pattern[str]:
    pattern = "|".join(alternatives)
    for name, part in _POINTER_PARTS.items():
        pattern = pattern.replace(name, part)
    return regex.compile(pattern, flags)


# Pointers that open the sentence (``match``).
_EN_OPENING = _pointer_pattern(
    # "Read our summary of the full survey.", "See the full list here.", "Visit our site.",
    # "See the full schedule on the ministry's website."
    r"(?:[»>→▶•*-]\s*)?(?:please\s+)?<VERB>\b[^.!?]{0,80}?"
    r"(?:\b(?:our|this)\s+<WORDS><NOUN>\b|\b(?:the|this)\s+link\b|\b(?:here|below)\b"
    r"|\b(?:on|at|in|via)\s+the\s+<WORDS><NOUN>\b<END>)",
    # "For more details, see …", "For more on the launch, visit …"
    r"for\s+(?:more|further|full|complete|the\s+(?:full|latest))\b[^,.!?]{0,60},?\s+"
    r"(?:please\s+)?<VERB>\b",
    # "The full list is here.", "More details on the ministry's website."
    r"(?:the\s+)?(?:full|complete|more|further)\s+(?:story|list|details|report|text|results"
    r"|schedule|coverage|specifications?|interview|statement|transcript|information|info"
    r"|updates)\b[^.!?]{0,60}?"
    r"(?:\b(?:on|at|in|via)\s+(?:our|the|this)\s+<WORDS><NOUN>\b|\b(?:here|below)\b)<END>",
    flags=regex.IGNORECASE,
)
# Pointers that end the sentence (searched in its last ``_TAIL`` characters).
_EN_ENDING = _pointer_pattern(
    # "The full story is at the link below."
    r"\b(?:on|at|via|in|from|through)\s+(?:the|this)\s+link(?:\s+(?:below|above))?<END>",
    # "The full specification sheet is on our Kestrel Ridge page.", "Details can be found
    # on our website." ("is on our site" may be a plant's grounds: not a bare "site")
    r"\b(?:is|are|can\s+be\s+(?:found|seen|read|viewed|accessed|downloaded)"
    r"|(?:is|are)\s+(?:available|listed|published|posted))\s+(?:on|at|in|via|from)\s+"
    r"(?:our|this)\s+<WORDS>(?!site\b)<NOUN><END>",
    flags=regex.IGNORECASE,
)
# "To book, click here.", "Click the read more link …" (searched only where "click" or
# "tap" occurs).
_CLICK_HERE = regex.compile(
    r"\b(?:click|tap)\s+(?:on\s+)?(?:here|(?:the|this)\s+(?:[\w’'-]+\s+){0,3}?link)\b",
    regex.IGNORECASE,
)
_TAIL = 200  # characters: every ending pointer is shorter (a handful of words)
# Hindi, Tamil and Telugu, all ending the sentence: "हमारे … पेज पर है", "यहाँ पढ़ें",
# "எங்கள் … வரைபடத்தில் பார்க்கலாம்", "இங்கே படிக்கவும்", "మా … మ్యాప్‌లో చూడవచ్చు",
# "ఇక్కడ చదవండి". Each opens on one of ``_INDIC_POINTER_WORDS``.
_INDIC_POINTER = _pointer_pattern(
    r"(?:^|\s)(?:हमारे|हमारी|हमारा)\s+(?:\S+\s+){0,3}?(?:पेज|पेज़|पन्ने|पन्ना|वेबसाइट|साइट|नक्शे"
    r"|नक़्शे|मैप|लिंक|ब्लॉग|पोर्टल|ऐप|चैनल)\s+(?:(?:पर|में)\s+)?(?:है|हैं|उपलब्ध\s+(?:है|हैं)"
    r"|दी\s+(?:गई|गयी)\s+(?:है|हैं)|देखें|पढ़ें|देखिए|पढ़िए|देख\s+सकते\s+हैं|पढ़\s+सकते\s+हैं"
    r"|देखी\s+जा\s+सकती\s+है|देखा\s+जा\s+सकता\s+है|पढ़ी\s+जा\s+सकती\s+है|मिलेगी|मिलेगा"
    r"|मिलेंगे|मिलेंगी|जाएँ|जाएं|क्लिक\s+करें)<END>",
    r"(?:^|\s)(?:यहाँ|यहां|नीचे)\s+(?:पर\s+)?(?:पढ़ें|देखें|क्लिक\s+करें)<END>",
    r"(?:^|\s)எங்கள்\s+(?:\S+\s+){0,3}?\S*(?:பக்கத்தில்|வரைபடத்தில்|தளத்தில்|இணைப்பில்"
    r"|பக்கங்களில்|சேனலில்|செயலியில்)\s+(?:பார்க்கலாம்|படிக்கலாம்|காணலாம்|அறியலாம்"
    r"|தெரிந்துகொள்ளலாம்|உள்ளது|உள்ளன|பார்க்கவும்|படிக்கவும்|காணவும்)<END>",
    r"(?:^|\s)(?:இங்கே|இங்கு|கீழே)\s+(?:படிக்கவும்|பார்க்கவும்|கிளிக்\s+செய்யவும்|காணலாம்)<END>",
    r"(?:^|\s)మా\s+(?:\S+\s+){0,3}?\S*(?:పేజీ|పేజ్|మ్యాప్|సైట్|లింక్|ఛానల్|యాప్)[\u200c\u200d]?"
    r"\s?లో\s+(?:చూడవచ్చు|చదవవచ్చు|తెలుసుకోవచ్చు|ఉంది|ఉన్నాయి|చూడండి|చదవండి"
    r"|అందుబాటులో\s+(?:ఉంది|ఉన్నాయి)|లభిస్తాయి|లభిస్తుంది)<END>",
    r"(?:^|\s)(?:ఇక్కడ|కింద)\s+(?:చదవండి|చూడండి|క్లిక్\s+చేయండి)<END>",
)
# One of these opens each of ``_INDIC_POINTER``'s alternatives.
_INDIC_POINTER_WORDS = ("हमार", "यहा", "नीचे", "எங்கள்", "இங்", "கீழே", "మా", "ఇక్కడ", "కింద")


def candidate_sentences(text: str, lang: str | None) -> list[str]:
    """The sentences of ``text`` worth scoring: no bylines, datelines, headings, photo
    pointers, pointers at links ("Read our summary …") or half quotations, unless nothing
    else is left."""
    sentences = [
        drop_photo_references(_SPACE_BEFORE_PUNCT.sub(r"\1", s) if _SPACED_PUNCT.search(s) else s)
        for s in split_sentences(text, lang)
    ]
    real = [s for s in sentences if not _is_furniture(s)] or sentences
    # "Read our summary …", "… is on our page": the link they point at is not in the post.
    real = [s for s in real if not points_elsewhere(s)] or real
    # Headings, list items and "Sale:" lead-ins have no full stop: use them only as a last resort.
    real = [s for s in real if ends_complete(s)] or real
    # Half of a quotation split across sentences ('"It is not cheap.') reads as a fragment.
    real = [s for s in real if _quotes_balanced(s)] or real
    if real:
        real[0] = _DATELINE.sub("", real[0]) or real[0]
    return real


def ends_complete(sentence: str) -> bool:
    """Does ``sentence`` end with a full stop (or "!", "?", "।"…), then only closing quotes
    or brackets? ``_COMPLETE.search`` without scanning the sentence for it: its "$" also
    matches before a final line break."""
    stops = _STOP_TUPLE
    if sentence.rstrip(_CLOSERS).endswith(stops):
        return True
    return sentence.endswith("\n") and sentence[:-1].rstrip(_CLOSERS).endswith(stops)


def _quotes_balanced(sentence: str) -> bool:
    return sentence.count('"') % 2 == 0 and sentence.count("“") == sentence.count("”")


def _is_furniture(sentence: str) -> bool:
    """Bylines, timestamps, fragments like "By ." and inline "Also read: …" that feeds leak."""
    return (
        not (_opens_on_three_words(sentence) or _has_lettered_words(sentence, 3))
        or bool(_BYLINE.match(sentence))
        or is_boilerplate(sentence)
    )


def _opens_on_three_words(sentence: str) -> bool:
    """Do the first three space-separated pieces of ``sentence`` each hold one word of
    ASCII letters, punctuation aside? Then it has three words with a letter in them
    (``_has_lettered_words``), as most sentences do, told without a regex."""
    pieces = sentence.split(None, 3)
    if len(pieces) < 3:
        return False
    for piece in pieces[:3]:
        core = piece.strip(_PUNCTUATION)
        if not (core.isascii() and core.isalpha()):
            return False
    return True


_PUNCTUATION = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~“”‘’«»—–…"  # none is a letter, mark or digit


def _has_lettered_words(sentence: str, wanted: int) -> bool:
    """Does ``sentence`` have ``wanted`` words with a letter in them? Stops once it has."""
    for word in _WORD.finditer(sentence):
        if _LETTERS.search(word.group()):
            wanted -= 1
            if wanted == 0:
                return True
    return False


def drop_photo_references(sentence: str) -> str:
    """``sentence`` without "(pictured)"-style pointers at images the post will not show."""
    if "(" not in sentence:
        return sentence
    cleaned: str = _PHOTO_REFERENCE.sub("", sentence)
    return cleaned


def points_elsewhere(sentence: str) -> bool:
    """Is ``sentence``'s point a link the post will not carry ("Read our summary of the
    full survey.", "… is on our Kestrel Ridge page.", "… हमारे सब्सिडी पेज पर है।",
    "… எங்கள் வரைபடத்தில் பார்க்கலாம்.", "… మా ఛార్జింగ్ మ్యాప్‌లో చూడవచ్చు.")?"""
    if _EN_OPENING.match(sentence):
        return True
    tail = sentence
    if len(sentence) > _TAIL:  # from a space: a word boundary, as in the whole sentence
        cut = sentence.find(" ", len(sentence) - _TAIL)
        tail = sentence[cut:] if cut >= 0 else ""
    folded = tail.lower()
    # Each pattern holds one of these words: most sentences hold none, and the test is
    # far cheaper than the search.
    if ("our " in folded or "this " in folded or "link" in folded) and _EN_ENDING.search(tail):
        return True
    if (
        not tail.isascii()
        and any(word in tail for word in _INDIC_POINTER_WORDS)
        and _INDIC_POINTER.search(tail)
    ):
        return True
    folded = sentence.lower()
    return ("click" in folded or "tap" in folded) and bool(_CLICK_HERE.search(sentence))


def leans_on_previous(sentence: str) -> bool:
    """Does ``sentence`` open on "But", "So", "For example", "लेकिन", "ஆனால்", "కానీ"…?"""
    return bool(_DEPENDENT.match(sentence))
