"""The word index: every lexeme of the recommendations' search vectors, with its positions, in memory (PostgreSQL).

A text search then never reads the recommendations' rows: PostgreSQL turns the query into a tsquery
(websearch_to_tsquery, exactly as the SQL path does), and the tsquery is evaluated here over the index, with
PostgreSQL's own semantics:

- a lexeme matches the recommendations whose vector holds it;
- `a & b`, `a | b` and `!a` combine those sets;
- `a <N> b` (a phrase: `<->` is `<1>`, and a stop word between two words makes `<2>`) matches where `b` begins
  N positions after `a` ends, as PostgreSQL's TS_phrase_execute: a phrase's position is that of its last word,
  its width the distance from its first.

Each lexeme's occurrences are one sorted array of 64-bit keys `id << 14 | position` (tsvector positions are below
16,384), so that a phrase is a vectorised search of one array's shifted keys in the other's. Read from the vectors
themselves, the index holds what the GIN index and its recheck would find. A tsquery of another shape (prefixes,
weights, an OR or NOT inside a phrase: websearch_to_tsquery makes none of them) is not evaluated here:
`evaluate` returns None and the caller asks PostgreSQL.

Ranking (ts_rank_cd, cover density) stays PostgreSQL's, but for the commonest queries: one word or one phrase,
maybe with words left out. Each match is then a cover of its own, all of the same width (0.1 for a word, weight
D), so the rank is a constant times the number of matches, and the order by rank is the order by that number
(`single_term`, `term_frequencies`).

Memory: 8 bytes per word occurrence (the 1,000,000 generated recommendations: 8.3 million occurrences, 66 MB).
Building it is one GROUP BY per range of ids in PostgreSQL: some 12 s for a million recommendations.
"""

import re
from dataclasses import dataclass

import numpy as np
from django.db import connection

from recommendations.models import Recommendation

POSITION_BITS = 14  # tsvector positions are 1..16383
_POSITION_MASK = (1 << POSITION_BITS) - 1
_BUILD_CHUNK = 250_000  # ids per GROUP BY: each holds its range's occurrences in PostgreSQL's memory


@dataclass
class WordIndex:
    occurrences: dict[str, np.ndarray]  # lexeme -> sorted uint64 keys (id << 14 | position)

    @property
    def nbytes(self) -> int:
        return sum(keys.nbytes for keys in self.occurrences.values())

    def keys(self, lexeme: str) -> np.ndarray:
        return self.occurrences.get(lexeme, _EMPTY)


_EMPTY = np.zeros(0, dtype=np.uint64)


def words_build(highest_id: int) -> WordIndex:
    """Every lexeme's occurrences, read from the search vectors of the recommendations with ids up to
    `highest_id` (those of the facet bitmaps; call it in the same snapshot)."""
    table = Recommendation._meta.db_table
    parts: dict[str, list[np.ndarray]] = {}
    with connection.cursor() as cursor:
        for start in range(0, highest_id + 1, _BUILD_CHUNK):
            cursor.execute(
                f"""SELECT u.lexeme, string_agg(int8send((c.id::int8 << {POSITION_BITS}) | p), ''::bytea)
                    FROM {table} c, unnest(c.search_vector) u, unnest(u.positions) p
                    WHERE c.id >= %s AND c.id < %s
                    GROUP BY u.lexeme""",  # noqa: S608 (table name from the model, constants)
                [start, min(start + _BUILD_CHUNK, highest_id + 1)],
            )
            for lexeme, raw in cursor.fetchall():
                parts.setdefault(lexeme, []).append(np.frombuffer(raw, dtype=">u8"))
    occurrences = {}
    for lexeme, arrays in parts.items():
        keys = np.concatenate(arrays).astype(np.uint64)
        keys.sort()
        occurrences[lexeme] = keys
    return WordIndex(occurrences)


# --- tsquery: PostgreSQL's text form, read into a tree ------------------------------------------------------------


@dataclass(frozen=True)
class Lexeme:
    text: str


@dataclass(frozen=True)
class Not:
    operand: object


@dataclass(frozen=True)
class Binary:
    operator: str  # "&", "|" or "<N>" (a phrase: distance in `distance`)
    left: object
    right: object
    distance: int = 0


class Unsupported(ValueError):
    """A tsquery this module does not evaluate (PostgreSQL does)."""


_TOKENS = re.compile(r"\s+|(?P<lexeme>'(?:[^'\\]|''|\\.)*')(?P<suffix>:[*A-Da-d]+)?|(?P<op><->|<\d+>|[&|!()])")


def _tokens(text: str) -> list[tuple[str, str]]:
    tokens, position = [], 0
    while position < len(text):
        match = _TOKENS.match(text, position)
        if match is None:
            raise Unsupported(f"unexpected character at {position} of {text!r}")
        position = match.end()
        if match.group("suffix"):
            raise Unsupported("prefix or weight")
        if match.group("lexeme"):
            quoted = match.group("lexeme")[1:-1]
            tokens.append(("lexeme", re.sub(r"''|\\(.)", lambda m: m.group(1) or "'", quoted)))
        elif match.group("op"):
            tokens.append(("op", match.group("op")))
    return tokens


def tsquery_parse(text: str):
    """The tree of a tsquery as PostgreSQL prints it (`'a' & !( 'b' <-> 'c' ) | 'd'`). Priorities as PostgreSQL's:
    ! binds tightest, then phrases, then &, then |; binary operators group from the left."""
    tokens = _tokens(text)
    if not tokens:
        raise Unsupported("empty query")
    position = 0

    def peek() -> tuple[str, str] | None:
        return tokens[position] if position < len(tokens) else None

    def take() -> tuple[str, str]:
        nonlocal position
        if position >= len(tokens):
            raise Unsupported("unexpected end")
        position += 1
        return tokens[position - 1]

    def operand():
        kind, value = take()
        if kind == "lexeme":
            return Lexeme(value)
        if value == "!":
            return Not(operand())
        if value == "(":
            tree = disjunction()
            if take() != ("op", ")"):
                raise Unsupported("unbalanced parentheses")
            return tree
        raise Unsupported(f"unexpected {value!r}")

    def phrase():
        tree = operand()
        while (token := peek()) and token[0] == "op" and token[1].startswith("<"):
            take()
            distance = 1 if token[1] == "<->" else int(token[1][1:-1])
            tree = Binary("<N>", tree, operand(), distance)
        return tree

    def conjunction():
        tree = phrase()
        while peek() == ("op", "&"):
            take()
            tree = Binary("&", tree, phrase())
        return tree

    def disjunction():
        tree = conjunction()
        while peek() == ("op", "|"):
            take()
            tree = Binary("|", tree, conjunction())
        return tree

    tree = disjunction()
    if position != len(tokens):
        raise Unsupported("trailing tokens")
    return tree


# --- Evaluation -------------------------------------------------------------------------------------------------


def _member(keys: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """For each of `wanted`, whether it is in the sorted `keys`."""
    if not len(keys):
        return np.zeros(len(wanted), dtype=bool)
    at = np.searchsorted(keys, wanted)
    return keys[np.minimum(at, len(keys) - 1)] == wanted


def _phrase(index: WordIndex, tree) -> tuple[np.ndarray, int]:
    """The end positions (as keys) and the width of a phrase's matches: PostgreSQL's TS_phrase_execute for
    lexemes and phrase operators."""
    if isinstance(tree, Lexeme):
        return index.keys(tree.text), 0
    if not (isinstance(tree, Binary) and tree.operator == "<N>"):
        raise Unsupported("only words and phrases inside a phrase")
    left, left_width = _phrase(index, tree.left)
    right, right_width = _phrase(index, tree.right)
    shift = tree.distance + right_width  # the left part must end `shift` positions before the right part ends
    right = right[(right & _POSITION_MASK) > shift]  # positions start at 1: nothing can end before the first
    found = right[_member(left, right - np.uint64(shift))]
    return found, left_width + tree.distance + right_width


def _runs(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The ids of sorted keys and where each id's run of keys starts."""
    ids = (keys >> np.uint64(POSITION_BITS)).astype(np.int64)
    if not len(ids):
        return ids, ids
    return ids, np.flatnonzero(np.concatenate(([True], ids[1:] != ids[:-1])))


def documents(keys: np.ndarray) -> np.ndarray:
    """The distinct ids of sorted keys."""
    ids, starts = _runs(keys)
    return ids[starts]


def evaluate(index: WordIndex, tree, pack, words: int) -> np.ndarray:
    """The recommendations matching `tree`, as a bitmap of `words` 64-bit words (`pack(ids, words)` makes one).
    Raises Unsupported for a shape this module does not evaluate."""
    if isinstance(tree, Lexeme):
        return pack(documents(index.keys(tree.text)), words)
    if isinstance(tree, Not):
        return ~evaluate(index, tree.operand, pack, words)
    if tree.operator == "&":
        return evaluate(index, tree.left, pack, words) & evaluate(index, tree.right, pack, words)
    if tree.operator == "|":
        return evaluate(index, tree.left, pack, words) | evaluate(index, tree.right, pack, words)
    keys, _ = _phrase(index, tree)
    return pack(documents(keys), words)


def _phrase_words(node) -> list[str] | None:
    """The words of a plain phrase of adjacent words (`'a' <-> 'b' <-> 'c'`, or one word), None for anything else.
    A phrase with a gap (`<2>`: a stop word between) or a word twice is not one: a query word inside the gap, or
    overlapping matches, change ts_rank_cd's covers (PostgreSQL then ranks it)."""
    if isinstance(node, Lexeme):
        return [node.text]
    if not (isinstance(node, Binary) and node.operator == "<N>" and node.distance == 1):
        return None
    left, right = _phrase_words(node.left), _phrase_words(node.right)
    return None if left is None or right is None else left + right


def _plain_phrase(node) -> bool:
    words = _phrase_words(node)
    return words is not None and len(set(words)) == len(words)


def single_term(tree):
    """The one word or phrase of adjacent, different words sought when the query is one, maybe with words left out
    (`'a' & !'b'`, `'a' <-> 'b' & !'c'`); None otherwise. ts_rank_cd then finds each match a cover of its own, all of
    the same width, so that a recommendation's rank is a constant times its number of matches (0.1 each)."""
    positive: list = []

    def walk(node) -> bool:
        if _plain_phrase(node):
            positive.append(node)
            return True
        if isinstance(node, Not):
            return isinstance(node.operand, Lexeme)
        return isinstance(node, Binary) and node.operator == "&" and walk(node.left) and walk(node.right)

    return positive[0] if walk(tree) and len(positive) == 1 else None


def term_frequencies(index: WordIndex, term) -> tuple[np.ndarray, np.ndarray]:
    """The ids holding `term` (a word, or a phrase: see single_term) and how many times each holds it."""
    keys = index.keys(term.text) if isinstance(term, Lexeme) else _phrase(index, term)[0]
    ids, starts = _runs(keys)
    return ids[starts], np.diff(np.concatenate((starts, [len(ids)])))
