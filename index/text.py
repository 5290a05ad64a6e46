"""Text primitives shared by the index (passage making) and answering (citation checking):
sentences, paragraphs, words, content tokens. Pure functions, no I/O.

One module on purpose: a change here (an abbreviation, a stop word) changes passage making and
citation checking together; tests/test_chunk.py and tests/test_evidence.py pin it.
"""

from __future__ import annotations

import re
import unicodedata

import Stemmer

from index.models import Span

# Words that end in a full stop without ending the sentence ("Lt. Gen. Jim Hockenhull").
_ABBREVIATIONS = frozenset(
    "mr mrs ms dr prof sr jr st mt lt gen maj col capt cpt sgt cmdr adm gov sen rep pres "
    "rev hon vs etc approx dept est inc ltd co corp jan feb mar apr jun jul aug "
    "sep sept oct nov dec".split()
)
# Abbreviations only before a number ("No. 5", "Fig. 2"); "He said no. Then…" ends a sentence.
_NUMBER_ABBREVIATIONS = frozenset({"no", "nos", "fig", "vol", "pp"})
_SENTENCE_END = re.compile(r"""[.!?…]+["'”’)\]]*(?=\s+|$)""")
_NEXT_STARTS_SENTENCE = re.compile(r"""\s+["'“‘(\[]*[A-Z0-9À-ÖØ-Þ]""")
_WORD = re.compile(r"\S+")


def _is_abbreviation(text: str, end_of_punct: int, dot_at: int) -> bool:
    if text[dot_at] != ".":
        return False
    start = dot_at
    while start > 0 and not text[start - 1].isspace():
        start -= 1
    word = text[start:dot_at].strip("\"'“‘(").lower()
    if word in _ABBREVIATIONS:
        return True
    if word in _NUMBER_ABBREVIATIONS:
        return text[end_of_punct:].lstrip()[:1].isdigit()
    # A lone initial ("J. Smith"); dotted acronyms such as "U.N." may end a sentence.
    return len(word) == 1 and text[start:dot_at].strip("\"'“‘(").isupper()


def split_sentences(text: str) -> list[Span]:
    """Sentence spans covering every non-space character of `text`, in order, without overlap."""
    spans: list[Span] = []
    start = _skip_space(text, 0)
    for match in _SENTENCE_END.finditer(text):
        end = match.end()
        if end <= start:
            continue
        at_text_end = text[end:].strip() == ""
        if not at_text_end:
            if not _NEXT_STARTS_SENTENCE.match(text, end):
                continue
            if _is_abbreviation(text, end, match.start()):
                continue
        spans.append(Span(start, end))
        start = _skip_space(text, end)
    if start < len(text) and text[start:].strip():
        spans.append(Span(start, len(text.rstrip())))
    return spans


def _skip_space(text: str, at: int) -> int:
    while at < len(text) and text[at].isspace():
        at += 1
    return at


def count_words(text: str) -> int:
    return len(_WORD.findall(text))


def split_paragraphs(text: str) -> list[Span]:
    """Paragraph spans: blocks separated by one or more blank lines (cleaned text uses '\\n\\n')."""
    spans = []
    for match in re.finditer(r"\S(?:.*?\S)?(?=\s*\n\s*\n|\s*$)", text, flags=re.DOTALL):
        spans.append(Span(match.start(), match.end()))
    return spans


_STEMMER = Stemmer.Stemmer("english")
TOKEN = re.compile(r"\d+(?:[.,:]\d+)*|[^\W\d_]+")
NUMBER = re.compile(r"^\d+(?:[.,:]\d+)*$")
STOP_WORDS = frozenset(
    "a an the and or but if then of to in on at by for with from as is are was were be been being has have had do "
    "does did this that these those it its it's they them their there here he she his her him we our you your i me my "
    "not no so than too very can could would should will shall may might must into onto about over under after before "
    "also just only which who whom whose what when where why how all any each both few more most other some such own "
    "same said says say according article passage passages "
    # What an apostrophe leaves of "Warsaw's", "don't", "I'd", "we'll", "they're", "we've", "I'm".
    "s t d ll re ve m".split()
)


# British -ise spellings as American -ize ("recognised" and "recognized" are one word); the
# Snowball stemmer keeps them apart. Both sides of a comparison get the same rewrite, so a word
# that merely ends that way ("raised", "promise") only changes its spelling, never its match.
_BRITISH_ISE = re.compile(r"(?<=\w\w\w)is(e|ed|es|ing|ation|ations)$")


# Latin letters Unicode does not decompose into a base letter and an accent, written as the
# English spelling of a name writes them ("Skłodowska" is "Sklodowska", "Øresund" "Oresund").
# A transliteration library (anyascii, unidecode) would also rewrite every non-Latin script.
_UNDECOMPOSED = str.maketrans(
    {"ł": "l", "Ł": "L", "ø": "o", "Ø": "O", "đ": "d", "Đ": "D", "ð": "d", "Ð": "D", "ħ": "h", "Ħ": "H", "ı": "i",
     "ß": "ss", "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE", "þ": "th", "Þ": "TH"}
)  # fmt: skip


def _without_accents(word: str) -> str:
    """ "Möngke" as "Mongke", "Kücükdeveci" as "Kucukdeveci", "Skłodowska" as "Sklodowska": a
    question typed without the article's accents names the same person."""
    if word.isascii():
        return word
    return "".join(c for c in unicodedata.normalize("NFKD", word) if not unicodedata.combining(c)).translate(
        _UNDECOMPOSED
    )


# A Roman numeral of two or more letters, I to XXXIX ("World War II", "Phase IV", "Louis XIV").
# Single letters stay words: "I" is a pronoun, "V" and "X" are letters more often than numbers.
_ROMAN = re.compile(r"^(X{0,3})(IX|IV|V?I{0,3})$")
_ROMAN_VALUES = {"I": 1, "V": 5, "X": 10}


def roman_value(word: str) -> str | None:
    """ "II" as "2", "XIV" as "14" (upper case only, two letters or more); None for any other word."""
    if len(word) < 2 or not _ROMAN.match(word):
        return None
    values = [_ROMAN_VALUES[c] for c in word]
    return str(sum(-v if i + 1 < len(values) and v < values[i + 1] else v for i, v in enumerate(values)))


def normalise(word: str) -> str:
    if (number := roman_value(word)) is not None:
        return number
    word = _without_accents(word.lower())
    return word if NUMBER.match(word) else _STEMMER.stemWord(_BRITISH_ISE.sub(r"iz\1", word))


def content_tokens(text: str) -> set[str]:
    return {normalise(w) for w in TOKEN.findall(text) if w.lower() not in STOP_WORDS}


# Small words a name may hold without breaking it ("European Court of Justice" is ECJ).
_NAME_JOINERS = frozenset("of and for the".split())


def acronyms(text: str) -> set[str]:
    """The initials of each name of two to six capitalised words ("European Union" → "eu"), so
    that an acronym in a question or answer matches the name the text spells out."""
    found, run = set(), []
    for word in [*TOKEN.findall(text), ""]:
        if word[:1].isupper() and not word.isupper():
            run.append(word[0])
        elif not (run and word in _NAME_JOINERS):
            if 2 <= len(run) <= 6:
                found.add("".join(run).lower())
            run = []
    return found


def key_tokens(text: str) -> set[str]:
    """Numbers and capitalised words (names, places): the facts a sentence must not get wrong."""
    return {
        normalise(w) for w in TOKEN.findall(text) if (w[0].isdigit() or w[0].isupper()) and w.lower() not in STOP_WORDS
    }


EXCERPT_CHARS = 220


def excerpt(text: str, limit: int = EXCERPT_CHARS, around: str = "") -> str:
    """`text` on one line, cut at word boundaries to at most `limit` characters: its beginning, or,
    given `around` (the claim the text supports), the run of words holding most of `around`'s
    content words (the earliest of equals), "…" marking what is left out: a supporting sentence
    of 40 words runs past the 220 characters the terminal shows, and cut from its beginning the
    quote could hide the very words a reader checks the answer against."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    if not (wanted := content_tokens(around)):
        return text[: limit - 1].rsplit(" ", 1)[0] + " …"
    words = text.split(" ")
    held = [wanted & content_tokens(word) for word in words]  # each word stemmed once, not once a run
    runs = [(start, end) for start in range(len(words)) if (end := _run_end(words, start, limit)) > start]
    if not runs:  # one word longer than the room
        return text[: limit - 1] + "…"
    start, end = max(runs, key=lambda run: (len(set().union(*held[run[0] : run[1]])), -run[0]))
    return ("… " if start else "") + " ".join(words[start:end]) + (" …" if end < len(words) else "")


def _run_end(words: list[str], start: int, limit: int) -> int:
    """Where the longest run of `words` from `start` ends that fits in `limit` characters with
    the "… " before it (unless it starts the text) and the " …" after it (unless it ends it)."""
    end, used = start, 0 if start == 0 else 2
    while end < len(words):
        cost = len(words[end]) + (end > start)  # the word and the space before it
        if used + cost + (2 if end + 1 < len(words) else 0) > limit:
            break
        used, end = used + cost, end + 1
    return end


def counted(n: int, noun: str) -> str:
    """ "1 passage", "2 passages": a count with its noun in the right number."""
    return f"{n:,} {noun}" if n == 1 else f"{n:,} {noun}s"
