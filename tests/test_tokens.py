import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.tokens import fold, word_pattern, words


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("García Müller", ["garcía", "müller"]),
        ("C++ and 10:30", ["c", "and", "10", "30"]),
        ('"', []),
        ("a~b", ["a", "b"]),
        ("state-of-the-art", ["state", "of", "the", "art"]),
        ("(node.js) o'brien,", ["node", "js", "o", "brien"]),
        ("深度学习 模型", ["深度学习", "模型"]),
        ("tab\tand\u3000ideographic space", ["tab", "and", "ideographic", "space"]),
    ],
)
def test_words_split_on_anything_but_letters_digits_and_marks(
    text: str, expected: list[str]
) -> None:
    assert words(text) == expected


@pytest.mark.parametrize(
    ("word", "folded"),
    [
        ("garcía", "garcia"),
        ("löffler", "loffler"),
        ("josé", "jose"),
        ("çelik", "celik"),
        ("dvořák", "dvorak"),
        ("nguyễn", "nguyen"),
        ("straße", "strasse"),
        ("løkke", "lokke"),
        ("łukasz", "lukasz"),
        ("ﬁnetuning", "finetuning"),
        ("深度学习", "深度学习"),
    ],
)
def test_fold_strips_accents_and_special_letters(word: str, folded: str) -> None:
    assert fold(word) == folded


@given(st.text(alphabet=st.characters(max_codepoint=127), max_size=200))
def test_ascii_fast_path_finds_the_same_words(text: str) -> None:
    assert words(text) == [m.lower() for m in word_pattern().findall(text)]
