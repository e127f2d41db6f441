"""The word index (recommendations/words.py) finds what PostgreSQL's full-text search finds, phrases included."""

import numpy as np
import pytest
from django.db import connection

from followup.status import implementation_status_refresh
from recommendations import bitmaps, search
from recommendations import words as word_index
from recommendations.bitmaps import _pack, _positions, bitmap_counts, bitmaps_build, bitmaps_forget, query_tree
from recommendations.dataset import dataset_generate
from recommendations.facets import facet_counts, reference_load
from recommendations.models import Recommendation
from recommendations.words import Binary, Lexeme, Not, Unsupported, evaluate, single_term, tsquery_parse
from tests.factories import RecommendationFactory
from tests.recommendations.searching import filterset_for

# --- Reading PostgreSQL's tsquery text -----------------------------------------------------------------------------


def test_parse_follows_postgresql_priorities():
    a, b, c, d = (Lexeme(x) for x in "abcd")
    assert tsquery_parse("'a' & 'b' | 'c' & 'd'") == Binary("|", Binary("&", a, b), Binary("&", c, d))
    assert tsquery_parse("'a' & ( 'b' | 'c' )") == Binary("&", a, Binary("|", b, c))
    assert tsquery_parse("'a' <-> 'b' & !'c'") == Binary("&", Binary("<N>", a, b, 1), Not(c))
    assert tsquery_parse("'a' <-> 'b' <2> 'c'") == Binary("<N>", Binary("<N>", a, b, 1), c, 2)
    assert tsquery_parse("!( 'a' <-> 'b' ) & 'c'") == Binary("&", Not(Binary("<N>", a, b, 1)), c)


def test_parse_reads_quotes_and_backslashes_as_postgresql_writes_them():
    assert tsquery_parse("'women''s'") == Lexeme("women's")
    assert tsquery_parse(r"'a\\b'") == Lexeme("a\\b")


@pytest.mark.parametrize("text", ["'a':*", "'a':AB", "", "'a' &", "( 'a'", "'a' 'b'", "'a' # 'b'"])
def test_parse_refuses_what_it_does_not_evaluate(text):
    with pytest.raises(Unsupported):
        tsquery_parse(text)


def test_single_term_is_one_word_or_phrase_with_words_left_out_only():
    assert single_term(tsquery_parse("'tortur'")) == Lexeme("tortur")
    assert single_term(tsquery_parse("'women' & !'violenc' & !'girl'")) == Lexeme("women")
    assert single_term(tsquery_parse("'women' & 'girl'")) is None
    assert single_term(tsquery_parse("'women' | 'girl'")) is None
    phrase = single_term(tsquery_parse("'death' <-> 'penalti'"))
    assert phrase == Binary("<N>", Lexeme("death"), Lexeme("penalti"), 1)
    assert single_term(tsquery_parse("'death' <-> 'penalti' & !'abolish'")) is not None
    # A gap (a stop word between) or a word twice: ts_rank_cd is not then a constant times the matches.
    assert single_term(tsquery_parse("'right' <2> 'educ' & !'girl'")) is None
    assert single_term(tsquery_parse("'tortur' <-> 'tortur'")) is None
    assert single_term(tsquery_parse("'women' & !( 'death' <-> 'penalti' )")) is None  # a phrase left out
    assert single_term(tsquery_parse("'death' <-> 'penalti' & 'abolish'")) is None
    assert single_term(tsquery_parse("!'death'")) is None


# --- Against PostgreSQL ---------------------------------------------------------------------------------------------

TEXTS = [
    "torture", "rights", "human rights", '"human rights"', '"death penalty"', '"right to education"',
    '"national action plan" trafficking', "non-refoulement", "women's rights", "women -violence",
    'torture -"death penalty"', "hate speech OR racism", "women OR girls -violence", '"rights of the child" OR torture',
    "continue efforts", "ratified conventions", "2030 agenda", '"ensure that"', '"paris principles" -national',
    "child marriage", "zzzqqq", 'torture "zzzqqq"', '"torture torture torture"', "rights -rights",
]  # fmt: skip


@pytest.fixture
def data():
    dataset_generate(recommendations=1500, assessments=3000, seed=5)
    review = Recommendation.objects.order_by("id").first().review
    for text in [
        "Torture, torture and again torture: end torture.",  # four times: first by relevance
        "Ensure the right to education, the right of everyone to education, and non-refoulement.",
        "Adopt a national action plan against trafficking; the action plan, national in scope, to be funded.",
        "Abolish the death penalty. The penalty of death is not a deterrent.",
        "Protect women's and girls' rights; prevent violence against women.",
        "Implement the 2030 Agenda and its Sustainable Development Goals.",
        "End the death penalty: the death penalty, a death penalty by any name, is cruel.",  # the phrase 3 times
        "The right to education, the right to education for girls, and the right of boys to education.",
    ]:
        RecommendationFactory(review=review, text=text)
    implementation_status_refresh()
    bitmaps_forget()
    yield
    bitmaps_forget()


def _matching(text: str) -> set[int]:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id FROM {Recommendation._meta.db_table} WHERE search_vector @@ websearch_to_tsquery(%s::regconfig, %s)",  # noqa: S608, E501
            [search.CONFIG, text],
        )
        return {pk for (pk,) in cursor.fetchall()}


@pytest.mark.django_db
def test_every_query_finds_exactly_what_postgresql_finds(data):
    maps = bitmaps_build(0, reference_load())
    found = 0
    for text in TEXTS:
        if search.text_problem(text):
            continue
        tree = query_tree(text)
        assert tree is not None, text  # the word index evaluates everything websearch_to_tsquery makes
        kinds = maps.kind.union(maps.kind.keys)
        ids = set(_positions(evaluate(maps.words, tree, _pack, maps.width) & kinds).tolist())
        assert ids == _matching(text), text
        found += bool(ids)
    assert found >= 18


@pytest.mark.django_db
def test_one_word_or_phrase_is_ranked_by_its_matches_as_ts_rank_cd_ranks(data):
    maps = bitmaps_build(0, reference_load())
    texts = ["torture", "rights", "women -violence", '"death penalty"', '"human rights"', '"death penalty" -abolish',
             '"national action plan"']  # fmt: skip
    for text in texts:
        filterset = filterset_for({"q": text, "kind": "any"})
        term = word_index.single_term(query_tree(text))
        assert term is not None, text  # ranked from the word index, not by PostgreSQL
        fast = bitmap_counts(filterset, maps, page=(0, 500))
        assert fast.page_ids == facet_counts(filterset, page=(0, 500)).page_ids, text
    top = bitmap_counts(filterset_for({"q": "torture", "kind": "any"}), maps, page=(0, 1)).page_ids
    assert Recommendation.objects.get(pk=top[0]).text.startswith("Torture, torture")
    top = bitmap_counts(filterset_for({"q": '"death penalty"', "kind": "any"}), maps, page=(0, 1)).page_ids
    assert Recommendation.objects.get(pk=top[0]).text.startswith("End the death penalty")


@pytest.mark.django_db
def test_a_query_the_word_index_does_not_read_is_asked_of_postgresql(data, monkeypatch):
    maps = bitmaps_build(0, reference_load())
    for text in ['"death penalty"', "torture", "hate speech OR racism"]:
        filterset = filterset_for({"q": text, "response": "accepted"})
        expected = bitmap_counts(filterset, maps, page=(0, 25))
        monkeypatch.setattr(bitmaps, "query_tree", lambda text: None)
        fallback = bitmap_counts(filterset, maps, page=(0, 25))
        monkeypatch.undo()
        assert (fallback.total, fallback.page_ids) == (expected.total, expected.page_ids), text
        assert expected.total == facet_counts(filterset, page=(0, 0)).total


@pytest.mark.django_db
def test_the_word_index_holds_every_position(data):
    maps = bitmaps_build(0, reference_load())
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT count(*) FROM {Recommendation._meta.db_table} c, unnest(c.search_vector) u, unnest(u.positions)"  # noqa: S608
        )
        (positions,) = cursor.fetchone()
    assert sum(len(keys) for keys in maps.words.occurrences.values()) == positions
    assert all(np.all(keys[1:] > keys[:-1]) for keys in maps.words.occurrences.values())  # sorted, no duplicate
