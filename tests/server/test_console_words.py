"""The console's word tables: every key declared once, in both languages."""
import pytest

from server.console import words


def test_every_word_has_chinese_and_english():
    for key, pair in words.TEXT.items():
        assert len(pair) == 2 and all(isinstance(text, str) and text for text in pair), key


def test_a_key_declared_twice_is_refused():
    with pytest.raises(ValueError, match="save"):
        words.word_table({"save": ("保存", "Save")}, {"save": ("存", "Keep")})


def test_the_table_holds_every_page_table():
    tables = (words.COMMON, words.NAV, words.ACTIONS, words.ATTENDANCE, words.AUDIT, words.CATALOGUE,
              words.CONFLICTS, words.OPERATIONS, words.SETUP, words.FULFIL, words.PEOPLE, words.OWN_PASSWORD, words.PHOTOS,
              words.INCIDENTS, words.VOICE, words.CUSTODY)
    assert len(words.TEXT) == sum(len(table) for table in tables)
