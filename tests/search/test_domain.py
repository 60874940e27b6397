from __future__ import annotations

from omnimall.search.domain import index_terms, normalise_query, parse_query


def test_normalise_query_trims_collapses_and_cuts_when_text_is_messy():
    assert normalise_query("  Trail \t\n Ｒｕｎｎｉｎｇ\x00 ") == "Trail Running"
    assert len(normalise_query("x" * 500)) == 100


def test_parse_query_keeps_only_word_terms_when_text_has_search_syntax():
    terms = parse_query('"sneak* OR NEAR(boots: &|! -x')

    assert [t.text for t in terms] == ["sneak", "or", "near", "boots", "x"]


def test_index_terms_segment_chinese_and_add_single_characters_when_words_are_long():
    terms = index_terms(["男士越野跑步运动鞋"])

    assert {"运动鞋", "运动", "男士", "鞋", "跑"} <= set(terms)


def test_index_terms_fold_case_and_accents_when_latin():
    assert index_terms(["Café CRÈME"]) == ["cafe", "creme"]


def test_parse_query_matches_lone_letter_exactly_when_query_is_latin():
    assert [(t.text, t.prefix) for t in parse_query("s")] == [("s", False)]
    assert [(t.text, t.prefix) for t in parse_query("t恤")] == [("t", True), ("恤", True)]


def test_cjk_fallback_keeps_longest_known_part_when_word_has_a_suffix():
    from omnimall.search.domain import cjk_fallback

    known = {"鞋", "子", "运动", "运动鞋", "袜子"}

    assert cjk_fallback("鞋子", known) == "鞋"
    assert cjk_fallback("运动鞋子", known) == "运动鞋"
    assert cjk_fallback("帽", known) is None
