"""The countries a text names without naming them: by their capital ("Beijing") or their people
("Chinese"). News writes "Beijing warned…" for China's government, so a sentence on Beijing
supports an answer naming China. Only that way round: a country does not say which of its cities
is meant, so an answer naming Beijing needs a sentence naming Beijing.

Pure functions over strings; the table is countryinfo's (names, capitals and demonyms of 250
countries and territories, MIT), read once. Imports only `index.text` and countryinfo.
"""

from __future__ import annotations

from functools import cache

from countryinfo import CountryInfo

from index.text import TOKEN, content_tokens, normalise


@cache
def _countries_by_phrase() -> dict[str, list[tuple[tuple[str, ...], frozenset[str]]]]:
    """By the first word of each capital and demonym (normalised): the whole phrase and the
    content tokens of its country's name. A demonym several places share ("French", "Chinese")
    names the most populous of them."""
    chosen: dict[tuple[str, ...], tuple[int, str]] = {}
    for info in CountryInfo.all().values():
        name, population = info.get("name"), info.get("population") or 0
        for phrase in (info.get("capital"), info.get("demonym")):
            if not name or not isinstance(phrase, str):
                continue
            words = tuple(normalise(w) for w in TOKEN.findall(phrase))
            if words and (words not in chosen or population > chosen[words][0]):
                chosen[words] = (population, name)
    table: dict[str, list[tuple[tuple[str, ...], frozenset[str]]]] = {}
    for words, (_, name) in chosen.items():
        table.setdefault(words[0], []).append((words, frozenset(content_tokens(name))))
    return table


def implied_country_tokens(text: str) -> set[str]:
    """The content tokens of the countries `text` names by a capitalised capital or demonym
    ("Beijing", "Chinese leader" → {"china"}; "the White House in Washington D.C." → the United
    States'). Lower-case words are not names ("male", "lima beans")."""
    table = _countries_by_phrase()
    found: set[str] = set()
    raw = TOKEN.findall(text)
    words = [normalise(w) for w in raw]
    for i, word in enumerate(words):
        if not raw[i][0].isupper():
            continue
        for phrase, country in table.get(word, ()):
            if tuple(words[i : i + len(phrase)]) == phrase:
                found |= country
    return found
