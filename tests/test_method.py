"""The practice's method: situations, traps and suggested objectives, in both languages."""

from collections import Counter

from engagements import method
from engagements.models import Objective

ALL_SUGGESTIONS = [item for theme in method.THEMES for item in theme.suggestions]


def _bilingual(text):
    return set(text) == {"fr", "en"} and all(value.strip() for value in text.values())


def test_every_theme_is_worded_in_french_and_english():
    for theme in method.THEMES:
        assert _bilingual(theme.name), theme.key
        assert _bilingual(theme.description), theme.key


def test_every_suggestion_is_worded_in_french_and_english():
    for item in ALL_SUGGESTIONS:
        assert _bilingual(item.title), item.key
        assert _bilingual(item.indicators), item.key


def test_french_and_english_wordings_differ():
    for item in ALL_SUGGESTIONS:
        assert item.title["fr"] != item.title["en"], item.key
        assert item.indicators["fr"] != item.indicators["en"], item.key


def test_the_method_has_four_situations_and_four_traps():
    kinds = Counter(theme.kind for theme in method.THEMES)
    assert kinds == {"situation": 4, "trap": 4}


def test_each_theme_offers_two_or_three_suggestions():
    for theme in method.THEMES:
        assert 2 <= len(theme.suggestions) <= 3, theme.key


def test_theme_and_suggestion_keys_are_unique():
    theme_keys = [theme.key for theme in method.THEMES]
    suggestion_keys = [item.key for item in ALL_SUGGESTIONS]
    assert len(set(theme_keys)) == len(theme_keys)
    assert len(set(suggestion_keys)) == len(suggestion_keys)


def test_keys_are_stable_slugs():
    for key in [theme.key for theme in method.THEMES] + [item.key for item in ALL_SUGGESTIONS]:
        assert key == key.lower().strip()
        assert key.replace("-", "").isalnum(), key


def test_titles_fit_the_objective_title_column():
    max_length = Objective._meta.get_field("title").max_length
    assert max_length == 300
    for item in ALL_SUGGESTIONS:
        for language, title in item.title.items():
            assert len(title) <= max_length, (item.key, language)


def test_indicators_stay_short_enough_to_reword():
    for item in ALL_SUGGESTIONS:
        for language, indicators in item.indicators.items():
            assert len(indicators) <= 600, (item.key, language, len(indicators))


def test_suggestion_is_given_in_the_requested_language():
    first = ALL_SUGGESTIONS[0]
    assert method.suggestion(first.key, "en") == {
        "title": first.title["en"],
        "success_indicators": first.indicators["en"],
    }
    assert method.suggestion(first.key, "fr") == {
        "title": first.title["fr"],
        "success_indicators": first.indicators["fr"],
    }


def test_suggestion_accepts_a_regional_language_code():
    first = ALL_SUGGESTIONS[0]
    assert method.suggestion(first.key, "en-gb")["title"] == first.title["en"]
    assert method.suggestion(first.key, "fr_FR")["title"] == first.title["fr"]


def test_suggestion_falls_back_to_french_for_an_unknown_language():
    first = ALL_SUGGESTIONS[0]
    for language in ("de", "", None):
        assert method.suggestion(first.key, language) == {
            "title": first.title["fr"],
            "success_indicators": first.indicators["fr"],
        }


def test_suggestion_with_an_unknown_key_is_none():
    assert method.suggestion("no-such-suggestion", "fr") is None
    assert method.suggestion("new-post", "fr") is None  # a theme, not a suggestion


def test_every_suggestion_can_be_looked_up_by_its_key():
    for item in ALL_SUGGESTIONS:
        assert method.suggestion(item.key, "fr")["title"] == item.title["fr"]


def test_themes_in_english_give_english_text():
    listed = method.themes("en")
    assert [theme["key"] for theme in listed] == [theme.key for theme in method.THEMES]
    for theme, entry in zip(method.THEMES, listed, strict=True):
        assert entry["kind"] == theme.kind
        assert entry["name"] == theme.name["en"]
        assert entry["description"] == theme.description["en"]
        assert entry["suggestions"] == [
            {"key": item.key, "title": item.title["en"], "indicators": item.indicators["en"]}
            for item in theme.suggestions
        ]


def test_themes_in_an_unknown_language_give_french_text():
    assert method.themes("es") == method.themes("fr")
    first = method.themes("fr")[0]
    assert first["name"] == "Sécuriser une prise de poste"


def test_themes_list_situations_before_traps():
    kinds = [theme["kind"] for theme in method.themes("fr")]
    assert kinds == sorted(kinds, key=lambda kind: kind != "situation")
