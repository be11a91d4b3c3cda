#!/usr/bin/env python3
"""make_corpus.py: the synthetic pretraining corpus of the tiny base model.

Usage: make_corpus.py MAX_OPERAND DOCS SEED > corpus.txt

One document per line, three kinds, none of them an arithmetic question or a
worked solution in the answer format (the GRPO phase has to find that itself):
  facts     the addition table up to MAX_OPERAND in prose and equation form
            ("3 plus 4 is 7.", "3 + 4 = 7"), some equations as a thought
            ("<think> 3 + 4 = 7 </think>", never followed by an answer tag),
            as a base model knows facts
  tags      random statements about colours, things, places, counts and
            prices (never a question, never a sum), a thought that repeats
            the statement or picks one fact out of it ("cats = 7", "the cup
            is blue"), then the thought's last word inside <answer> </answer>
            (or "so it is WORD."), on their own or as a "User: ... Assistant:"
            exchange. A quarter of these thoughts first wander through an
            unrelated addition fact ("<think> 2 + 5 = 7 and cats = 3 </think>
            <answer> 3 </answer>"); the answer is then never that sum. So the
            tag tokens exist, "answer with the thought's last word" is a
            familiar pattern, and a sum may stand in a thought, but no answer
            tag ever holds a sum
  chat      "User: ... Assistant: ..." small talk without tags or numbers
"""
import random
import sys

COLORS = ["red", "blue", "green", "yellow", "black", "white", "brown", "pink", "grey", "orange"]
THINGS = ["ball", "box", "cat", "dog", "cup", "hat", "book", "tree", "car", "bird", "fish", "door", "pen", "egg"]
PLACES = ["house", "garden", "park", "room", "street", "river", "forest", "shop", "school", "boat"]
# Share of addition facts written as a thought, and of tag documents whose
# thought first wanders through an (unrelated) addition fact: the tiny model
# only links a sum in a thought to the tags when it has seen one there, so
# with neither it never opens an <answer> after a sum, even when sampling.
THINK_FACT_P = 0.2
DISTRACT_P = 0.25
GREETINGS = [("hello", "hello, nice to meet you."), ("how are you?", "I am fine, thank you."),
             ("good morning", "good morning to you too."), ("thank you", "you are welcome."),
             ("What is your name?", "I am the assistant."), ("goodbye", "goodbye, see you soon.")]


def fact(rng, a, b):
    s = a + b
    if rng.random() < THINK_FACT_P:
        return f"<think> {a} + {b} = {s} </think>"
    form = rng.randrange(4)
    if form == 0:
        return f"{a} + {b} = {s}"
    if form == 1:
        return f"{a} plus {b} is {s}."
    if form == 2:
        return f"the sum of {a} and {b} is {s}."
    return f"adding {b} to {a} gives {s}."


def statement(rng):
    """A random statement about things and what a thought makes of it: (statement, thought).

    The thought either repeats the statement or picks one fact out of it, so its
    last word (what the answer copies) is often not the statement's last word.
    Numbers here are counts and codes, never sums.
    """
    c, c2, t, t2, p = rng.choice(COLORS), rng.choice(COLORS), rng.choice(THINGS), rng.choice(THINGS), rng.choice(PLACES)
    n, m = rng.randrange(20), rng.randrange(20)
    form = rng.randrange(8)
    if form == 0:
        s = f"the {t} is {c}"
        return s, s
    if form == 1:
        s = f"the {c} {t} is in the {p}"
        return s, rng.choice([s, f"the {t} is {c}", f"the {t} is in the {p}"])
    if form == 2:
        s = f"I see a {c} {t} and a {c2} {t2}"
        return s, rng.choice([f"the {t} is {c}", f"the {t2} is {c2}"])
    if form == 3:
        s = f"the number of {t}s in the {p} is {n}"
        return s, rng.choice([s, f"{t}s = {n}"])
    if form == 4:
        s = f"there are {n} {c} {t}s"
        return s, rng.choice([s, f"{c} {t}s = {n}"])
    if form == 5:
        s = f"the code is {n} {m} {rng.randrange(20)}"
        return s, s
    if form == 6:
        s = f"I count {n} {t}s and {m} {t2}s"
        return s, rng.choice([s, f"{t}s = {n}", f"{t2}s = {m}"])
    s = f"the {t} costs {n} and the {t2} costs {m}"
    return s, rng.choice([f"{t} = {n}", f"{t2} = {m}"])


def tags(rng):
    text, thought = statement(rng)
    last = thought.split()[-1]
    if rng.random() < DISTRACT_P:
        # a thought that wanders through an addition fact first; the answer is
        # still the picked fact, never the sum
        while True:
            x, y = rng.randint(0, 9), rng.randint(0, 9)
            if str(x + y) != last:
                break
        thought = f"{x} + {y} = {x + y} and {thought}"
    kind = rng.random()
    if kind < 0.6:
        return f"User: {text} Assistant: <think> {thought} </think> <answer> {last} </answer>"
    if kind < 0.8:
        return f"{text}. <think> {thought} </think> <answer> {last} </answer>"
    return f"{text}. <think> {thought} </think> so it is {last}."


def chat(rng):
    q, a = rng.choice(GREETINGS)
    return f"User: {q} Assistant: {a}"


def main():
    max_operand, docs, seed = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    rng = random.Random(seed)
    for _ in range(docs):
        kind = rng.random()
        if kind < 0.4:
            line = " ".join(fact(rng, rng.randint(0, max_operand), rng.randint(0, max_operand)) for _ in range(4))
        elif kind < 0.9:
            line = tags(rng)
        else:
            line = chat(rng)
        print(line)


if __name__ == "__main__":
    main()
