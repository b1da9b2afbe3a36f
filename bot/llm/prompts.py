"""The prompts: one per language, written in that language, asking for the platform's budget.

The budget is stated in characters; the answer is then measured with the platform's own
count (``measure``), and a too-long answer is sent back with its length and a shorter
target (``shorten``). Each prompt repeats the fact gate's rules, so a faithful model
rarely trips it: only facts from the article, no new numbers, names or quotes, no links,
hashtags or @mentions. ``PROMPT_VERSION`` is part of the cache key: editing a prompt here
must bump it, or cached answers to the old prompt would be reused.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.llm.client import Message

PROMPT_VERSION = 1
MAX_ARTICLE_CHARS = 6000  # what the model reads of a long article: bounds the prompt tokens


@dataclass(frozen=True)
class Prompt:
    system: str
    user: str  # {budget}, {title}, {text}
    shorter: str  # {length}, {budget}, {target}


PROMPTS = {
    "en": Prompt(
        system=(
            "You write short summaries of news articles for social media posts. Use only "
            "facts stated in the article. Do not add any number, date, amount, name or "
            "quotation that is not in the article. No links, no hashtags, no @mentions, no "
            "emojis. Write in English. Reply with the summary only."
        ),
        user=(
            "Summarise this article in at most {budget} characters, in English.\n\n"
            "Title: {title}\n\n{text}"
        ),
        shorter=(
            "That summary is {length} characters; the limit is {budget}. Write it again in "
            "at most {target} characters. Reply with the summary only."
        ),
    ),
    "hi": Prompt(
        system=(
            "आप सोशल मीडिया पोस्ट के लिए समाचार लेखों का छोटा सारांश लिखते हैं। केवल लेख में दिए "
            "गए तथ्यों का उपयोग करें। कोई भी संख्या, तारीख, राशि, नाम या उद्धरण न जोड़ें जो लेख में "
            "नहीं है। कोई लिंक, हैशटैग, @उल्लेख या इमोजी नहीं। हिंदी में लिखें। केवल सारांश लिखें।"
        ),
        user=("इस लेख का सारांश हिंदी में अधिकतम {budget} अक्षरों में लिखें।\n\nशीर्षक: {title}\n\n{text}"),
        shorter=(
            "यह सारांश {length} अक्षरों का है; सीमा {budget} है। इसे अधिकतम {target} अक्षरों में "
            "दोबारा लिखें। केवल सारांश लिखें।"
        ),
    ),
    "ta": Prompt(
        system=(
            "நீங்கள் சமூக ஊடகப் பதிவுகளுக்காக செய்திக் கட்டுரைகளின் சுருக்கமான சுருக்கத்தை "
            "எழுதுகிறீர்கள். கட்டுரையில் உள்ள தகவல்களை மட்டுமே பயன்படுத்துங்கள். கட்டுரையில் "
            "இல்லாத எண், தேதி, தொகை, பெயர் அல்லது மேற்கோளைச் சேர்க்க வேண்டாம். இணைப்புகள், "
            "ஹேஷ்டேக்குகள், @குறிப்புகள், எமோஜிகள் வேண்டாம். தமிழில் எழுதுங்கள். சுருக்கத்தை "
            "மட்டும் பதிலாக எழுதுங்கள்."
        ),
        user=(
            "இந்தக் கட்டுரையை தமிழில் அதிகபட்சம் {budget} எழுத்துகளில் சுருக்கி எழுதுங்கள்.\n\n"
            "தலைப்பு: {title}\n\n{text}"
        ),
        shorter=(
            "அந்தச் சுருக்கம் {length} எழுத்துகள்; வரம்பு {budget}. அதை அதிகபட்சம் {target} "
            "எழுத்துகளில் மீண்டும் எழுதுங்கள். சுருக்கத்தை மட்டும் எழுதுங்கள்."
        ),
    ),
    "te": Prompt(
        system=(
            "మీరు సోషల్ మీడియా పోస్టుల కోసం వార్తా కథనాల చిన్న సారాంశాలు రాస్తారు. కథనంలో ఉన్న "
            "వాస్తవాలను మాత్రమే ఉపయోగించండి. కథనంలో లేని సంఖ్య, తేదీ, మొత్తం, పేరు లేదా "
            "ఉల్లేఖనను చేర్చవద్దు. లింకులు, హ్యాష్‌ట్యాగ్‌లు, @ప్రస్తావనలు, ఎమోజీలు వద్దు. "
            "తెలుగులో రాయండి. సారాంశాన్ని మాత్రమే జవాబుగా రాయండి."
        ),
        user=("ఈ కథనాన్ని తెలుగులో గరిష్టంగా {budget} అక్షరాలలో సంగ్రహించండి.\n\nశీర్షిక: {title}\n\n{text}"),
        shorter=(
            "ఆ సారాంశం {length} అక్షరాలు; పరిమితి {budget}. దాన్ని గరిష్టంగా {target} "
            "అక్షరాలలో మళ్ళీ రాయండి. సారాంశాన్ని మాత్రమే రాయండి."
        ),
    ),
}


def first_request(lang: str, *, title: str, text: str, budget: int) -> list[Message]:
    """The opening conversation for an article in ``lang`` (a key of ``PROMPTS``)."""
    prompt = PROMPTS[lang]
    body = text if len(text) <= MAX_ARTICLE_CHARS else text[:MAX_ARTICLE_CHARS] + " …"
    return [
        {"role": "system", "content": prompt.system},
        {"role": "user", "content": prompt.user.format(budget=budget, title=title, text=body)},
    ]


def shorten(
    lang: str, messages: list[Message], answer: str, *, length: int, budget: int, target: int
) -> list[Message]:
    """The conversation so far, the too-long ``answer`` (``length`` characters, over the
    ``budget`` asked for) and a request for one of at most ``target`` characters."""
    ask = PROMPTS[lang].shorter.format(length=length, budget=budget, target=target)
    return [*messages, {"role": "assistant", "content": answer}, {"role": "user", "content": ask}]
