"""The countries a text names by their capital: news writes "Beijing warned…" for China's
government, so a sentence on Beijing supports an answer naming China. Only that way round: a
country does not say which of its cities is meant, so an answer naming Beijing needs a sentence
naming Beijing. A people's name is not read so: "Japanese imports became market leaders" is not
"Japan became a leader in importing" (replayed on the public questions, demonyms let through
one more invented answer on each run and no right one).

Pure functions over strings; the table is countryinfo's (names and capitals of 250 countries
and territories, MIT), read once. Imports only `index.text` and countryinfo.
"""

from __future__ import annotations

from functools import cache

from countryinfo import CountryInfo

from index.text import TOKEN, content_tokens, normalise


@cache
def _countries_by_capital() -> dict[str, list[tuple[tuple[str, ...], frozenset[str]]]]:
    """By the first word of each capital (normalised): the capital's whole name and the content
    tokens of its country's name."""
    table: dict[str, list[tuple[tuple[str, ...], frozenset[str]]]] = {}
    for info in CountryInfo.all().values():
        name, capital = info.get("name"), info.get("capital")
        if not name or not isinstance(capital, str):
            continue
        if words := tuple(normalise(w) for w in TOKEN.findall(capital)):
            table.setdefault(words[0], []).append((words, frozenset(content_tokens(name))))
    return table


def capital_countries(text: str) -> set[str]:
    """The content tokens of the countries whose capital `text` names, capitalised ("deter
    Beijing" → {"china"}; "Washington D.C." → the United States'; "Washington" alone is also a
    name of people). A lower-case word is not a name ("male workers" are not the Maldives')."""
    table = _countries_by_capital()
    raw = TOKEN.findall(text)
    words = [normalise(w) for w in raw]
    found: set[str] = set()
    for i, word in enumerate(words):
        if raw[i][0].isupper():
            for capital, country in table.get(word, ()):
                if tuple(words[i : i + len(capital)]) == capital:
                    found |= country
    return found
