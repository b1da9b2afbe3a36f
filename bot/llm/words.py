"""Common words the fact gate lets a summary use although the article may not.

``SENTENCE_OPENERS``: English words that are capitalised only because they open a sentence
(stemmed as ``bot.llm.gate.stem`` does). ``COMMON_INDIC``: Hindi, Tamil and Telugu function
words, auxiliaries and reporting verbs; a word outside this list must come from the article.
Both lists stay short on purpose: a word missing here costs a fallback to the extractive
summary, a name wrongly listed here could let an invented one through.
"""

from __future__ import annotations

_OPENERS = """
    a an the this that these those it its they their them he his she her we our you your
    i in on at by for from with without to of as and but or so yet nor also after before
    while when where which who whom whose what why how if then there here than thu however
    meanwhile moreover furthermore still now today yesterday tomorrow earlier later
    according amid despite during under over about above below between into onto upon
    both each every all some many most more much several few other another such no not
    one two three four five six seven eight nine ten first second third last next new
    officials official experts expert authorities residents people police government
    critic analyst observer report reports it's overall instead besides although though
    because since until unless whether once only even just
"""
SENTENCE_OPENERS = frozenset(_OPENERS.split())

_HINDI = """
    और या तथा एवं लेकिन परंतु पर किंतु कि जो जिस जिसे जिन्हें जिनके उस उसे उन्हें उनके उनकी
    उनका इस इसे इन इनके यह ये वह वे यहां वहां है हैं था थी थे हो होगा होगी होंगे हुआ हुई
    हुए रहा रही रहे गया गई गए गये किया की के का को में से पर तक लिए लिये द्वारा साथ बाद
    पहले बीच ने भी ही तो नहीं न अब तब कहा बताया कहना अनुसार मुताबिक करने करना कर करते
    करती करेगा करेंगे सकता सकती सकते अपने अपनी अपना एक कुछ सभी सब कई अधिक ज्यादा ज़्यादा
    कम बहुत साल वर्ष दिन आज कल जा रहे बारे संबंध दौरान जैसे ऐसे क्योंकि इसलिए यदि अगर
"""
_TAMIL = """
    மற்றும் அல்லது ஆனால் என்று என்ற என்பது என அது இது அந்த இந்த அவர் அவர்கள் அவரது
    அவர்களின் இருந்து இருக்கும் இருந்தது உள்ளது உள்ளன உள்ள வேண்டும் செய்து செய்த
    செய்யப்பட்டது கூறினார் கூறியுள்ளார் தெரிவித்தார் தெரிவித்துள்ளார் படி மூலம் பின்னர்
    முன் போது மேலும் கொண்டு ஒரு சில பல அனைத்து இன்று நேற்று ஆண்டு ஆண்டில் நாள்
    ஆகும் ஆக என்றும் கூட மட்டும் இல்லை தான் உடன் வரை மீது பற்றி குறித்து காரணமாக
"""
_TELUGU = """
    మరియు లేదా కానీ అని అనే అది ఇది ఆ ఈ ఆయన వారు వారి ఆయన అతను ఆమె నుండి నుంచి లో కు
    కి తో ఉంది ఉన్నాయి ఉన్న ఉంటుంది చేశారు చేసిన చేసింది చెప్పారు తెలిపారు పేర్కొన్నారు
    ప్రకారం ద్వారా తర్వాత ముందు సమయంలో అలాగే కూడా ఒక కొన్ని అనేక అన్ని ఈరోజు నిన్న
    సంవత్సరం ఏడాది రోజు మాత్రమే లేదు వరకు పై గురించి కారణంగా కోసం అయితే
"""
COMMON_INDIC = frozenset((_HINDI + _TAMIL + _TELUGU).split())
