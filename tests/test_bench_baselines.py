"""The bench's own LexRank and TextRank: classic rankings, filled like every other system."""

import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

from baselines import fill_by_rank, lexrank_scores, textrank_scores

# Three sentences about one story and three unrelated asides: a centrality ranking must
# put every story sentence above every aside.
STORY = [
    "The council approved the tram line to the university.",
    "The tram line to the university opens in May, the council said.",
    "Students at the university welcomed the council's tram line.",
    "A bakery opened on Elm Street.",
    "Rain is forecast for Sunday.",
    "The museum shows Roman coins.",
]


@pytest.mark.parametrize("rank", [lexrank_scores, textrank_scores])
def test_off_topic_sentence_ranks_last(rank: Callable[[Sequence[str], str], list[float]]) -> None:
    """A sentence sharing no words with the others gets the lowest centrality."""
    scores = rank(STORY, "en")
    assert min(scores[:3]) > max(scores[3:])


def test_lexrank_threshold_cuts_weak_edges() -> None:
    """Sentences whose tf-idf cosine is at most 0.1 are unlinked: all keep the jump share."""
    scores = lexrank_scores(["Apples grow on trees.", "Rockets need fuel.", "Cats sleep."], "en")
    assert scores == pytest.approx([0.05, 0.05, 0.05])


def test_fill_by_rank_keeps_article_order_and_budget() -> None:
    """Best-ranked sentences that fit are joined in article order, never over budget."""
    sentences = ["First one here.", "Second is longer than the first.", "Third."]
    out = fill_by_rank(sentences, [0.1, 0.5, 0.4], budget=40)
    assert out == "Second is longer than the first. Third."
    assert len(out) <= 40


def test_fill_by_rank_cuts_best_at_a_word_when_nothing_fits() -> None:
    """When no whole sentence fits, the best-ranked one is cut at a word with an ellipsis."""
    out = fill_by_rank(["Alpha beta gamma delta epsilon."], [1.0], budget=18)
    assert out == "Alpha beta gamma…"


def test_rankings_handle_hindi_and_tamil() -> None:
    """Indian-script sentences are tokenised (combining marks kept) and ranked by topic."""
    hindi = [
        "सरकार ने दिल्ली मेट्रो की नई लाइन को मंजूरी दी।",
        "दिल्ली मेट्रो की नई लाइन अगले साल खुलेगी।",
        "यात्रियों ने दिल्ली मेट्रो की नई लाइन का स्वागत किया।",
        "बाजार में आम सस्ते हुए।",
        "कल बारिश की संभावना है।",
        "संग्रहालय में पुराने सिक्के हैं।",
    ]
    tamil = [
        "அரசு சென்னை மெட்ரோ புதிய பாதை திட்டத்தை அறிவித்தது.",
        "சென்னை மெட்ரோ புதிய பாதை அடுத்த ஆண்டு திறக்கப்படும்.",
        "பயணிகள் சென்னை மெட்ரோ புதிய பாதை திட்டத்தை வரவேற்றனர்.",
        "சந்தையில் மாம்பழ விலை குறைந்தது.",
        "நாளை மழை பெய்யும்.",
        "அருங்காட்சியகத்தில் பழைய நாணயங்கள் உள்ளன.",
    ]
    for sentences, lang in ((hindi, "hi"), (tamil, "ta")):
        for rank in (lexrank_scores, textrank_scores):
            scores = rank(sentences, lang)
            assert min(scores[:3]) > max(scores[3:])
