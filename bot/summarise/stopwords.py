"""Function words left out of sentence scoring, per language (en, hi, ta, te)."""

from __future__ import annotations


def _wordset(words: str) -> frozenset[str]:
    return frozenset(words.split())


STOPWORDS: dict[str, frozenset[str]] = {
    "en": _wordset(
        """a about above after again against all also am an and any are as at be because
        been before being below between both but by can could did do does doing down during
        each few for from further had has have having he her here hers him his how i if in
        into is it its itself just me more most my no nor not now of off on once only or
        other our ours out over own said same says she should so some such than that the
        their them then there these they this those through to too under until up very was
        we were what when where which while who whom why will with would you your new one
        two year years"""
    ),
    "hi": _wordset(
        """का के की को में से पर और है हैं था थे थी हो होने होता होती कर करने किया किए गया
        गई गए ने यह ये वह वे इस उस इन उन एक भी तो ही जो कि लिए साथ तक बाद अब कहा नहीं
        या हुआ हुई रहा रही रहे जा जाता जाती दिया"""
    ),
    "ta": _wordset(
        """ஒரு இந்த அந்த மற்றும் என்று என்ற உள்ள இது அது அவர் அவர்கள் நான் நாம் இருந்து
        மேலும் போது பின்னர் ஆனால் என்பது என அல்லது தான் கொண்ட செய்து உள்ளது இருக்கும்
        வேண்டும் அதன் இதன் எந்த"""
    ),
    "te": _wordset(
        """ఒక ఈ ఆ మరియు అని లో కు కి తో ను నుండి కోసం ఉంది ఉన్న ఉన్నాయి అతను ఆమె వారు
        మేము ఇది అది కూడా కానీ లేదా తర్వాత చేసిన చేశారు అన్నారు చెప్పారు వరకు మీద
        గా"""
    ),
}
ALL_STOPWORDS = frozenset().union(*STOPWORDS.values())
