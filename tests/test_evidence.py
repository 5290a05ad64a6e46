"""The answer checks, one failure class at a time: each test names what a reader would otherwise
have been shown."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.answering.evidence import (
    adds_negation,
    article_header,
    attribute,
    check_reply,
    closed_reply,
    decline_probability,
    missing_number,
    not_an_answer,
    off_topic,
    opposite_word,
    parse_model_answer,
    question_subject,
    reask_agreement,
    relevance_parts,
    settled_reask,
)
from bot.llm.protocol import Piece
from index.text import roman_value

PASSAGES = [
    "The U.N. refugee agency said 3.27 million people have fled Ukraine since the invasion began. "
    "Most of them went to Poland.",
    "Early morning barrages also hit a residential building in the Podil neighborhood of Kyiv, killing at least "
    "one person. Kyiv Mayor Vitali Klitschko said 19 were wounded in the shelling. Two others were killed when "
    "strikes hit buildings in the eastern city of Kramatorsk, according to the regional governor.",
    "Moscow police said more than 200,000 people were in and around the Luzhniki stadium. The crowd chanted "
    '"Russia!" as Putin spoke.',
]


def check(question: str, answer: str) -> str | None:
    """The first reason the answer would be declined, or None when it stands."""
    if problem := not_an_answer(question, answer):
        return problem
    evidence = attribute(answer, question, PASSAGES)
    if evidence is None:
        return "unsupported"
    return off_topic(question, evidence.text, evidence.context) or adds_negation(answer, evidence.text)


def test_a_reply_is_cut_to_its_first_sentence():
    reply = json.dumps({"answer": "19 were wounded in the shelling in Kyiv. Two others were killed there."})
    checked = check_reply("How many were wounded in Kyiv?", reply, PASSAGES, [""] * len(PASSAGES))
    assert isinstance(checked, tuple) and checked[0] == "19 were wounded in the shelling in Kyiv."


def test_a_supported_answer_is_attributed_to_its_own_sentence():
    evidence = attribute("3.27 million people have fled Ukraine.", "How many people have fled Ukraine?", PASSAGES)
    assert evidence is not None and evidence.passage == 0
    assert evidence.text == PASSAGES[0][evidence.start : evidence.end]
    assert evidence.text.startswith("The U.N. refugee agency") and "Poland" not in evidence.text


def test_right_fact_whatever_the_wording():
    assert check("Which Kyiv neighbourhood was hit?", "The Podil neighborhood was hit.") is None
    assert check("How many people were killed in Kramatorsk?", "Two people were killed.") is None
    assert check("What office does Vitali Klitschko hold?", "He is the mayor of Kyiv.") is None
    assert check("What did the crowd chant?", "Russia!") is None


def test_spelling_and_possessives_do_not_make_a_right_answer_unsupported():
    # Words an answer repeats from the question may be missing from the evidence once at most:
    # "recognized" against "recognised" and the "s" of "Warsaw's" must not count as missing.
    article = [
        "Proportionality is recognised as a general principle of European Union law. "
        "According to the 1901 census, out of 711,988 inhabitants 56.2% were Catholics."
    ]
    question = "How long has proportionality been recognized as a general principle of EU law?"
    assert attribute("Proportionality has been recognized as a general principle of EU law.", question, article)
    question = "Of Warsaw's inhabitants in 1901, what percentage was Catholic?"
    assert attribute("56.2% of Warsaw's inhabitants in 1901 were Catholic.", question, article)


def test_accents_and_roman_numerals_do_not_make_a_right_answer_unsupported():
    article = ["The painter Zoë Brontë moved to Kraków in 1921. During World War II she ran a school for refugees."]
    question = "When did Zoe Bronte move to Krakow?"  # typed without the article's accents
    evidence = attribute("Zoe Bronte moved to Krakow in 1921.", question, article)
    assert evidence is not None and off_topic(question, evidence.text, evidence.context) is None
    # Letters Unicode does not split into a letter and an accent ("ł", "ø") fold too.
    article.append("Maria Skłodowska-Curie and Ole Rømer met at the Łazienki Park in 1901.")
    question = "Where did Maria Sklodowska-Curie meet Ole Romer?"
    evidence = attribute("They met at the Lazienki Park.", question, article)
    assert evidence is not None and off_topic(question, evidence.text, evidence.context) is None
    question = "What did Zoe Bronte run during World War 2?"
    evidence = attribute("She ran a school for refugees during World War 2.", question, article)
    assert evidence is not None and off_topic(question, evidence.text, evidence.context) is None
    # II is 2, not any number: another war is not supported.
    assert attribute("She ran a school for refugees during World War 1.", "What did she run?", article) is None
    assert [roman_value(w) for w in ("II", "XIV", "XXXIX", "I", "X", "DC", "Iv", "IIII")] == [
        "2",
        "14",
        "39",
        None,
        None,
        None,
        None,
        None,
    ]


def test_a_unit_the_sentence_abbreviates_is_what_the_question_counts():
    def about(question: str, sentence: str) -> str | None:
        return off_topic(question, sentence, sentence)

    assert about("How many kilometers is the town from the sea?", "The town lies 300 km (190 mi) from the sea.") is None
    assert about("What is the water's temperature, in degrees Celsius?", "The water is kept at 65 °C.") is None
    assert about("How much money did the council spend?", "The council spent 6 million euros.") is None
    assert about("How many kilometers is the town from the sea?", "The town has 300 houses by the sea.") is not None
    assert about("What is the water's temperature in degrees Fahrenheit?", "The water is kept at 65 °C.") is not None


def test_an_acronym_matches_the_name_the_article_spells_out():
    article = ["Spain became a member of the European Union in 1986, after talks with the European Court of Justice."]
    question = "When did Spain join the EU?"
    evidence = attribute("Spain joined the EU in 1986.", question, article)  # "joined" alone is not in it
    assert evidence is not None and off_topic(question, evidence.text, evidence.context) is None
    # Only the evidence's names give initials: an answer's own are no claim to be supported.
    assert attribute("Spain joined the EU in 1987.", question, article) is None


def test_a_country_named_by_its_capital_is_named():
    question = "Which country did the U.S. want to deter from helping Russia?"
    assert attribute("China", question, ["Xi Jinping spoke in a bid by the U.S. to deter Beijing."]) is not None
    assert attribute("Japan", question, ["Xi Jinping spoke in a bid by the U.S. to deter Beijing."]) is None
    # Only that way round: a country does not say which of its cities is meant.
    assert attribute("Beijing", question, ["The U.S. wants to deter China from helping Russia."]) is None
    # Nor a people's name: Japanese imports leading the market is not Japan leading in imports.
    question = "What country became a leader in importing large cars?"
    assert attribute("Japan", question, ["Japanese imports became mass-market leaders."]) is None
    # A lower-case word is no name ("male workers" are not in the Maldives).
    assert attribute("Maldives", "Where did the male workers strike?", ["The male workers went on strike."]) is None
    # A name given by its capital still counts among the answer's words the sentence does not state.
    article = ["Warsaw has two botanic gardens, by the Lazienki park and in Powsin."]
    assert attribute("The Saxon Garden is a botanic garden in Poland.", "What is the Saxon Garden?", article)
    assert not attribute("The Saxon Garden is a royal garden in Poland.", "What is the Saxon Garden?", article)
    # Asked again, the model may name the capital where the answer named its country; a capital
    # of a country the question itself names is no agreement.
    question = "Which country did the U.S. want to deter from helping Russia?"
    assert reask_agreement(question, "China", '{"answer": "Beijing"}') == "agrees"
    assert (
        reask_agreement("Which city in Russia hosted it?", "St Petersburg, Russia", '{"answer": "Moscow"}') == "differs"
    )


def test_a_question_whose_word_the_evidence_turns_into_its_opposite_is_declined():
    assert opposite_word("What is the lowest point of the plateau?", "The highest point is 300 m.") == (
        "lowest",
        "highest",
    )
    assert opposite_word("How can graphs be encoded indirectly?", "Graphs can be encoded directly.") is not None
    # Another ordinal, another count in words; not when the question itself lists them.
    assert opposite_word("Why did the third invasion fail?", "The second invasion failed in 1281.") == (
        "third",
        "second",
    )
    assert opposite_word("What were his eight lectures?", "His seven lectures were printed.") == ("eight", "seven")
    assert opposite_word("First the Americas, what was third?", "First the Americas, then Africa.") is None
    assert opposite_word("What is the second item?", "The second item is prayer, the first a song.") is None
    # Any form of a pair; not when the question names both; a hyphenated prefix on either side.
    assert opposite_word("What similarities result?", "Differences in pressure result in forces.") == (
        "similarities",
        "differences",
    )
    assert opposite_word("Is it easier or harder to change?", "It is harder to change.") is None
    assert opposite_word("What is a non-combustion source?", "Non-combustion sources such as solar.") is None
    # Another month; "de-", "ab-", "under-"/"over-" as opposites; "may" the verb is no month.
    assert opposite_word("Who met on 12 March 1999?", "The Parliament met on 12 May 1999.") == ("march", "may")
    assert opposite_word("Who met on 12 March 1999?", "They may meet on 12 March 1999.") is None
    assert opposite_word("Who met in March?", "Parliament may meet again.") is None
    assert opposite_word("When are T cells deactivated?", "T cells are activated by an antigen.") is not None
    assert opposite_word("What is underrepresented?", "Hydrophilic acids are overrepresented.") is not None
    # A word with two opposites: "more" is neither "fewer" nor "less".
    assert opposite_word("Who is given more time?", "Later speakers are given less time.") == ("more", "less")
    assert opposite_word("Who has more seats?", "Labour has fewer seats.") == ("more", "fewer")
    assert off_topic("What is the lowest point?", "The highest point is 300 m.", "The highest point is 300 m.")
    # Not opposites: a negation in words, a prefix that does not negate, a name.
    assert opposite_word("What is unknown about P?", "It is not known whether P holds.") is None
    assert opposite_word("What takes in steam?", "The intakes take in steam.") is None
    assert opposite_word("Besides North America, where?", "They settled in South Africa.") is None
    assert opposite_word("Who are the un-elected officials?", "The unelected officials are appointed.") is None


def test_a_number_the_question_writes_must_be_in_the_evidence():
    sentence = "An early political response was the convening of the Albany Congress in June and July, 1754."
    question = "What political response was convening in June/July 1745?"
    assert missing_number(question, sentence) == "1745"  # two of its three names are there: a half is not enough
    assert off_topic(question, sentence, sentence) == "the evidence does not state the question's 1745"
    assert off_topic("What response was convening in June/July 1754?", sentence, sentence) is None
    # Given a sentence before or in the header, written as a word, or a number word in the question.
    assert missing_number("What happened in 2022?", "The war began in 2022. Cities were shelled.") is None
    assert missing_number("Who came in 2 rounds of talks?", "Two rounds of talks were held.") is None
    assert missing_number("Where can one find the two farms?", "The farms are in the Western Cape.") is None
    assert missing_number("What did 1,300 people shelter in?", "More than 1,300 people are in the basements.") is None


def test_swapped_numbers_are_declined():
    # 19 were wounded in Kyiv, not killed in Kramatorsk.
    assert check("How many people were killed by the strikes in Kramatorsk?", "19 people were killed.") is not None
    assert check("How many people have fled Ukraine?", "3.3 million people have fled Ukraine.") is not None


def test_facts_from_neighbouring_sentences_are_not_stitched_together():
    # "two" is in the Kramatorsk sentence, "wounded" in the one before it.
    assert check("How many people were wounded in Kramatorsk?", "Two people were wounded in Kramatorsk.") is not None


def test_negation_is_declined():
    assert check("How many people have fled Ukraine?", "3.27 million people have not fled Ukraine.") is not None


def test_invented_cause_is_declined():
    answer = "3.27 million people have fled Ukraine because of starvation and disease."
    assert check("Why have people fled Ukraine?", answer) is not None


def test_true_but_not_what_was_asked_is_declined():
    # The numbers and words are in the article, but they answer another question.
    assert check("How many tanks has Russia lost?", "Russia has lost 3.27 million tanks.") is not None
    assert check("How many soldiers were at the rally?", "More than 200,000 people were at the stadium.") is not None
    final_score = "The final score was 200,000 people in and around the stadium."
    assert check("What was the final score of the football match at Luzhniki stadium?", final_score) is not None


def test_swapped_places_are_declined():
    assert check("How many people were wounded in Kramatorsk?", "19 were wounded.") is not None


def test_repeating_the_question_or_no_number_is_not_an_answer():
    assert not_an_answer("What is the name of the theater in Mariupol?", "The theater in Mariupol.") is not None
    assert not_an_answer("How many people were wounded?", "Many people were wounded in the shelling.") is not None
    assert not_an_answer("At what time did the rally begin?", "The rally began after the speech.") is not None
    assert not_an_answer("How many were wounded?", "Nineteen were wounded.") is None


def test_a_how_many_answer_may_state_its_amount_in_words():
    assert not_an_answer("How much coal did the new engine use?", "Half as much coal as the old one.") is None
    assert not_an_answer("How much do families earning less pay?", "Nothing.") is None
    assert not_an_answer("How many outputs does each input get?", "A single output.") is None
    assert not_an_answer("How many people fled?", "Thousands of people fled.") is None
    assert not_an_answer("How many people fled?", "Many people fled the city.") is not None


def test_subject_of_the_question():
    assert question_subject("How many tanks has Russia lost?") == ({"tank"}, {"russia"})
    assert question_subject("How many people fled?") == (set(), set())  # "people" is implied by any count


def test_model_reply_parsing():
    assert parse_model_answer('{"answer": "Podil  was hit."}') == "Podil was hit."
    assert parse_model_answer('{"answer": "Podil was hit [2], [3] and Lviv [1; 4]."}') == "Podil was hit, and Lviv."
    assert parse_model_answer('Sure: {"answer": ""}') == ""
    assert parse_model_answer('{"answer": 3}') is None
    assert parse_model_answer("Podil was hit.") is None
    assert parse_model_answer('{"answer": "unterminated') is None


@given(st.text(max_size=200), st.text(max_size=80))
def test_checks_never_crash_and_evidence_is_verbatim(answer, question):
    evidence = attribute(answer, question, PASSAGES)
    if evidence is not None:
        assert PASSAGES[evidence.passage][evidence.start : evidence.end] == evidence.text
        assert evidence.text in evidence.context and evidence.context in PASSAGES[evidence.passage]
        off_topic(question, evidence.text, evidence.context)
    not_an_answer(question, answer)
    parse_model_answer(answer)


def test_the_thing_counted_must_be_in_the_evidence():
    stadium = "Moscow police said more than 200,000 people were in and around the Luzhniki stadium."
    assert off_topic("How many soldiers were in and around the Luzhniki stadium?", stadium, stadium) is not None
    assert off_topic("How many people were at the Luzhniki stadium?", stadium, stadium) is None


def test_every_name_of_a_question_naming_one_or_two_must_be_in_the_evidence():
    cape = "The first Huguenot to arrive at the Cape of Good Hope landed in April 1652."
    assert off_topic("When did Huguenots first arrive in Helsinki?", cape, cape) == (
        "the evidence does not mention helsinki"
    )
    assert off_topic("When did Huguenots first arrive at the Cape?", cape, cape) is None
    # A name given a sentence earlier, or by the article's header, counts.
    assert off_topic("When did Huguenots first arrive in Helsinki?", cape, f"Helsinki. {cape}") is None
    # Of three or more names, one may be missing: a long name is often shortened.
    visit = "John Paul arrived in Warsaw on 2 June 1979."
    assert off_topic("When did Pope John Paul arrive in Warsaw?", visit, visit) is None
    assert off_topic("When did Pope John Paul arrive in Krakow?", visit, visit) is not None


def test_a_name_the_reader_mistypes_still_names_it_but_a_swapped_name_does_not():
    sentence = "ARPANET and SITA HLN became operational in 1969, and Zelensky visited troops in Kramatorsk."
    assert off_topic("When did ARPNET become operational?", sentence, sentence) is None
    assert off_topic("When did Zelenksy visit troops in Kramatorks?", sentence, sentence) is None
    assert off_topic("When did ARPANET reach Austria?", "ARPANET reached Australia in 1989.", "") is not None
    # Short names are compared exactly: "Paris" is not "Parma".
    assert off_topic("When did SITA open in Parma?", "SITA opened in Paris in 1969.", "") is not None
    # The same for the thing a "how many" question counts, and the words it shares with the evidence.
    rally = "Moscow police said more than 200,000 soldiers were at the stadium."
    assert off_topic("How many soldeirs were at the stadium?", rally, rally) is None
    assert off_topic("How many sailors were at the stadium?", rally, rally) is not None
    assert off_topic("Who was in the stadum?", rally, rally) is None


def test_a_streamed_reply_is_complete_once_its_answer_string_closes():
    assert closed_reply('{"answer": "He said') is None
    assert closed_reply('{"answer": "He said \\"no') is None  # an escaped quote does not close it
    whole = closed_reply('{"answer": "He said \\"no\\" today."')
    assert whole is not None and json.loads(whole) == {"answer": 'He said "no" today.'}
    assert closed_reply('{"answer": ""') == '{"answer": ""}'  # the model declining
    assert closed_reply("Not JSON at all") is None


def test_the_models_own_doubt_is_the_probability_it_gave_an_empty_answer():
    """The pieces after the reply's opening, which stops before the string's quote: at the first,
    every token that opens and closes the string at once declines; one that only opens it does not."""
    weighed = ((' "', 0.6), (' ""', 0.3), (' ""}', 0.05), ('""', 0.02), (" \"'", 0.03))
    pieces = [Piece(' "', weighed), Piece("Lviv"), Piece('"')]
    assert decline_probability(pieces) == pytest.approx(0.37)
    assert decline_probability([Piece(' ""', ((' ""', 0.9), (' "', 0.1)))]) == pytest.approx(0.9)
    assert decline_probability([Piece(' "', ((' "', 1.0),))]) == 0.0
    assert decline_probability([Piece(' "'), Piece('"')]) is None  # no alternatives asked for
    assert decline_probability([]) is None


def test_names_most_passages_use_are_the_articles_topic_and_need_no_repeating():
    article = [
        "Russia said the talks went well.",
        "Shelling hit Kyiv, and Russia denied it.",
        "In Russia, the rally filled a stadium.",
        "The Kremlin has instituted tough prison sentences for false reporting.",
    ]
    question = "What penalties has Russia introduced for false reporting?"
    header = article_header("Rally in Moscow", article)
    assert "Rally in Moscow" in header and "Kyiv" not in header.title()
    assert off_topic(question, article[3], f"Rally in Moscow. {article[3]}") is not None  # title only
    assert off_topic(question, article[3], f"{header}. {article[3]}") is None
    # Too few passages to tell the article's topic from a name that happens to recur.
    assert article_header("Rally in Moscow", article[:3]) == "Rally in Moscow"


def test_an_answer_may_add_a_name_of_the_articles_topic_but_no_other_name():
    question = "What is Pavlo Kyrylenko's job?"
    passages = ["Two were killed in Kramatorsk, according to the regional governor, Pavlo Kyrylenko."]
    header = "War in Ukraine ukrain"
    answer = "Pavlo Kyrylenko is the regional governor of Ukraine."
    assert attribute(answer, question, passages) is None  # "Ukraine" is in no sentence
    evidence = attribute(answer, question, passages, headers=[header])
    assert evidence is not None and evidence.text == passages[0]
    # A name outside the header is still an invented detail.
    assert (
        attribute("Pavlo Kyrylenko is the regional governor of Crimea.", question, passages, headers=[header]) is None
    )


def test_the_names_an_article_keeps_using_count_as_said_in_each_sentence():
    """The header's topic names (not only its title's) may go unrepeated in the evidence, by an
    answer adding one or repeating one from the question."""
    article = [
        "Russia said the talks went well.",
        "Shelling hit Kyiv, and Russia denied it.",
        "In Russia, the rally filled a stadium.",
        "The Kremlin has instituted tough prison sentences for false reporting.",
    ]
    header = article_header("Rally in Moscow", article)
    question = "What penalties has Russia introduced for false reporting?"
    answer = "Russia has introduced tough prison sentences for false reporting."
    assert attribute(answer, question, article, headers=["Rally in Moscow"] * 4) is None  # "Russia", "introduced"
    evidence = attribute(answer, question, article, headers=[header] * 4)
    assert evidence is not None and evidence.text == article[3]
    added = "The Kremlin in Russia has instituted tough prison sentences."
    assert attribute(added, "What has the Kremlin instituted?", article, headers=[header] * 4) is not None
    assert (
        attribute(added.replace("Russia", "Belarus"), "What has the Kremlin instituted?", article, headers=[header] * 4)
        is None
    )


def test_an_answer_asked_again_agrees_only_by_a_word_it_adds_to_the_question():
    question = "How many people survived the strikes in Kramatorsk?"
    first = "Two others were killed when strikes hit buildings in Kramatorsk."
    assert reask_agreement(question, first, '{"answer": "Two others"}') == "agrees"
    assert reask_agreement(question, first, '{"answer": "19"}') == "differs"  # the number of the sentence before
    assert reask_agreement(question, first, '{"answer": "people in Kramatorsk"}') == "neutral"
    assert reask_agreement(question, first, '{"answer": ""}') == "declined"
    assert reask_agreement(question, first, "not JSON") == "declined"


def test_a_reask_is_settled_once_a_whole_word_it_adds_is_the_answers():
    """The re-ask stops reading when the rest of its reply can no longer change the verdict."""
    question = "How many people survived the strikes in Kramatorsk?"
    first = "Two others were killed when strikes hit buildings in Kramatorsk."
    whole = '{"answer": "Two others were killed in the eastern city"}'
    assert settled_reask(question, first, '{"answer": "Tw') is None
    assert settled_reask(question, first, '{"answer": "Two') is None  # "Two…" could be "Twofold"
    settled = settled_reask(question, first, '{"answer": "Two others')
    assert settled == '{"answer": "Two"}'
    assert reask_agreement(question, first, settled) == reask_agreement(question, first, whole) == "agrees"
    # Words of the question, or ones the answer lacks, settle nothing: a later word may still agree.
    assert settled_reask(question, first, '{"answer": "people in Kramatorsk ') is None
    assert settled_reask(question, first, '{"answer": "19 and ') is None
    # A closed string is the whole reply, whatever its verdict.
    assert settled_reask(question, first, '{"answer": "19"') == '{"answer": "19"}'
    assert settled_reask(question, first, '{"answer": ""') == '{"answer": ""}'
    assert settled_reask(question, first, "not JSON yet ") is None


def test_a_long_sentence_is_also_scored_by_its_overlapping_runs_of_words():
    assert relevance_parts("A short sentence of six words.") == []
    text = " ".join(f"w{i}" for i in range(100))
    parts = relevance_parts(text)
    assert [len(p.split()) for p in parts] == [40, 40, 40, 40]
    assert [p.split()[0] for p in parts] == ["w0", "w20", "w40", "w60"]
    assert parts[-1].split()[-1] == "w99"  # every word is in a run
