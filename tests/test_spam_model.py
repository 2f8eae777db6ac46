"""The spam classifier: hashing matches sklearn, explanations, learning, persistence,
the base model on English, Chinese and Russian, and the training-file reader."""

from __future__ import annotations

import numpy as np
import pytest

from bot.mod_model import TrainingDataError, base_model, read_labelled, score
from scoring.spam import SpamModel, feature_index
from scoring.spam_corpus import generate


@pytest.fixture(scope="module")
def model() -> SpamModel:
    return base_model()


def test_feature_index_matches_hashing_vectorizer(model):
    text = "Earn $500 a day, DM me"
    X = model.vectorizer.transform([text])
    ours = {feature_index(g) for g in model.analyzer(text)}
    assert ours == set(X.indices.tolist())


def test_margin_fast_path_equals_sklearn(model):
    texts = ["Join our crypto signals group now", "Where are the slides for lesson 3?"]
    fast = [model.probability(t) for t in texts]
    assert np.allclose(fast, model.probabilities(texts))


def test_fast_path_equals_sklearn_on_the_whole_corpus(model):
    """Every text of the generated corpus, plus words shorter and longer than the
    n-grams, CJK without spaces, digits and odd whitespace: the per-word fast path gives
    sklearn's probabilities."""
    texts = [s.text for s in generate()][:400] + ["a", "ab", "abc d", "x\t\n y", "数据清洗应该先做哪一步？", "$500!!", "", "   "]
    fast = np.array([model.probability(t) for t in texts])
    assert np.allclose(fast, model.probabilities(texts))


SPAM = [
    "Earn $500 a day from home, no experience needed, DM me now",
    "🎁 Free USDT airdrop! Claim your reward: https://airdrop-claim.online",
    "兼职日结，在家动动手指日赚300，有意者加vx：abc8866",
    "Заработок в интернете от 3000 рублей, подробности в ЛС",
]
HAM = [
    "Does anyone know if the capstone is due Friday?",
    "The rubric for week 3 is here: https://github.com/course-org/capstone-starter",
    "请问第三周作业是周五交吗？",
    "Спасибо за лекцию, наконец понял Docker.",
]


@pytest.mark.parametrize("text", SPAM)
def test_base_model_catches_spam_in_three_languages(model, text):
    assert model.probability(text) >= 0.85


@pytest.mark.parametrize("text", HAM)
def test_base_model_passes_course_chat(model, text):
    assert model.probability(text) < 0.5


def test_explain_names_whole_words(model):
    words = [w for w, _ in model.explain("Earn $500 a day from home, no experience needed, DM me now")]
    assert len(words) == 3
    assert all(" " not in w for w in words)
    assert "$500" in words or "earn" in words


def test_moderator_label_lowers_the_same_message(model):
    m = SpamModel.from_bytes(model.to_bytes())
    text = "Join the best crypto signals group now t.me/+pump"
    before = m.probability(text)
    m.learn(text, 0)
    assert m.probability(text) < before - 0.3
    # An unrelated spam message keeps its score.
    assert m.probability(SPAM[0]) > 0.85


def test_roundtrip_keeps_scores_and_keeps_learning(model):
    data = model.to_bytes()
    assert len(data) < 1_000_000
    m = SpamModel.from_bytes(data)
    for t in SPAM + HAM:
        assert m.probability(t) == pytest.approx(model.probability(t), abs=1e-9)
    m.learn("hello there friends", 1)
    assert m.updates == 1


def test_from_bytes_rejects_garbage():
    with pytest.raises(ValueError, match="not a spam model"):
        SpamModel.from_bytes(b"not a model")


def test_fit_needs_both_classes():
    with pytest.raises(ValueError, match="both spam"):
        SpamModel().fit(["a", "b"], [1, 1])


def test_generator_is_deterministic_and_multilingual():
    a, b = generate(), generate()
    assert [s.text for s in a] == [s.text for s in b]
    assert {s.lang for s in a} == {"en", "zh", "ru"}
    assert {s.label for s in a} == {0, 1}
    assert generate(seed=1)[0].text != a[0].text or generate(seed=1)[5].text != a[5].text


def test_read_labelled_formats(tmp_path):
    one = tmp_path / "spam.txt"
    one.write_text("buy now\n\nfree money\n", encoding="utf-8")
    assert read_labelled(str(one), 1) == (["buy now", "free money"], [1, 1])
    tab = tmp_path / "l.tsv"
    tab.write_text("spam\tbuy now\nham\thello\n0\tok then\n", encoding="utf-8")
    assert read_labelled(str(tab)) == (["buy now", "hello", "ok then"], [1, 0, 0])


def test_read_labelled_names_file_and_line(tmp_path):
    bad = tmp_path / "bad.tsv"
    bad.write_text("spam\tbuy now\nmaybe\tsomething\n", encoding="utf-8")
    with pytest.raises(TrainingDataError, match=r"bad.tsv:2: expected 'label<TAB>text'"):
        read_labelled(str(bad))
    with pytest.raises(TrainingDataError, match="file not found"):
        read_labelled(str(tmp_path / "nope.txt"), 1)


def test_score_counts_false_positive_rate():
    s = score([1, 1, 0, 0, 0, 0], [0.9, 0.2, 0.95, 0.1, 0.1, 0.1], 0.5)
    assert s.precision == 0.5 and s.recall == 0.5 and s.fpr == 0.25


def test_the_base_model_is_trained_once_then_read_from_the_disk_cache(tmp_path, monkeypatch):
    """Training took 0.9 s of every start; the cached weights are the same bytes, a
    damaged cache file is trained again, and an unwritable cache is only skipped."""
    import bot.mod_model as mm

    monkeypatch.setenv("COMMUNITYBOT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(mm, "_BASE", None)
    fitted = mm.base_model().to_bytes()
    files = list((tmp_path / "cache").glob("base-model-*.npz"))
    assert len(files) == 1 and files[0].read_bytes() == fitted

    def no_training(self, *a, **k):
        raise AssertionError("trained again although the cache holds the model")

    monkeypatch.setattr(mm, "_BASE", None)
    with monkeypatch.context() as m:
        m.setattr(SpamModel, "fit", no_training)
        assert mm.base_model().to_bytes() == fitted

    files[0].write_bytes(b"not a model")  # damaged: trained again and rewritten
    monkeypatch.setattr(mm, "_BASE", None)
    assert mm.base_model().to_bytes() == fitted
    assert files[0].read_bytes() == fitted

    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the cache directory would go")
    monkeypatch.setenv("COMMUNITYBOT_CACHE_DIR", str(blocked / "cache"))
    monkeypatch.setattr(mm, "_BASE", None)
    assert mm.base_model().to_bytes() == fitted

    monkeypatch.setenv("COMMUNITYBOT_CACHE_DIR", "")  # empty: no disk cache at all
    assert mm.base_model_cache_dir() is None


def test_the_cache_key_changes_with_the_training_data():
    from bot.mod_model import _cache_key, base_corpus

    texts, labels, _ = base_corpus()
    key = _cache_key(texts, labels)
    assert key == _cache_key(list(texts), list(labels))
    assert key != _cache_key(texts[:-1] + [texts[-1] + "!"], labels)
    assert key != _cache_key(texts, labels[:-1] + [1 - labels[-1]])
