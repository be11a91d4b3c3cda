#!/usr/bin/env python3
"""make_corpus.py: the synthetic pretraining corpus of the tiny base model.

Usage: make_corpus.py MAX_OPERAND DOCS SEED > corpus.txt

One document per line, three kinds, none of them an arithmetic question or a
worked solution in the answer format (the GRPO phase has to find that itself):
  facts     the addition table up to MAX_OPERAND in prose and equation form
            ("3 plus 4 is 7.", "3 + 4 = 7"), some equations as a thought
            ("<think> 3 + 4 = 7 </think>", never followed by an answer tag),
            as a base model knows facts
  tags      random statements about colours, things and places (never a
            question, never a sum) repeated inside <think> </think>, mostly
            followed by their last word inside <answer> </answer>, on their
            own or as a "User: ... Assistant:" exchange: the tag tokens exist,
            and "copy, then answer with the last word" is a familiar pattern
  chat      "User: ... Assistant: ..." small talk without tags or numbers
"""
import random
import sys

COLORS = ["red", "blue", "green", "yellow", "black", "white", "brown", "pink", "grey", "orange"]
THINGS = ["ball", "box", "cat", "dog", "cup", "hat", "book", "tree", "car", "bird", "fish", "door", "pen", "egg"]
PLACES = ["house", "garden", "park", "room", "street", "river", "forest", "shop", "school", "boat"]
GREETINGS = [("hello", "hello, nice to meet you."), ("how are you?", "I am fine, thank you."),
             ("good morning", "good morning to you too."), ("thank you", "you are welcome."),
             ("What is your name?", "I am the assistant."), ("goodbye", "goodbye, see you soon.")]


def fact(rng, a, b):
    s = a + b
    form = rng.randrange(5)
    if form == 4:
        return f"<think> {a} + {b} = {s} </think>"
    if form == 0:
        return f"{a} + {b} = {s}"
    if form == 1:
        return f"{a} plus {b} is {s}."
    if form == 2:
        return f"the sum of {a} and {b} is {s}."
    return f"adding {b} to {a} gives {s}."


def statement(rng):
    """A random statement about things: unpredictable, so a thought that repeats it must copy it."""
    c, t, p, n = rng.choice(COLORS), rng.choice(THINGS), rng.choice(PLACES), rng.randrange(20)
    form = rng.randrange(7)
    if form == 5:
        return f"the code is {n} {rng.randrange(20)} {rng.randrange(20)}"
    if form == 6:
        return f"I count {n} {t}s and {rng.randrange(20)} {rng.choice(THINGS)}s"
    if form == 0:
        return f"the {t} is {c}"
    if form == 1:
        return f"the {c} {t} is in the {p}"
    if form == 2:
        return f"I see a {c} {t} and a {rng.choice(COLORS)} {rng.choice(THINGS)}"
    if form == 3:
        return f"the number of {t}s in the {p} is {n}"
    return f"there are {n} {c} {t}s"


def tags(rng):
    text = statement(rng)
    last = text.split()[-1]
    kind = rng.random()
    if kind < 0.6:
        return f"User: {text} Assistant: <think> {text} </think> <answer> {last} </answer>"
    if kind < 0.8:
        return f"{text}. <think> {text} </think> <answer> {last} </answer>"
    return f"{text}. <think> {text} </think> so it is {last}."


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
