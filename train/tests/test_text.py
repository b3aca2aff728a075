"""Tokenizer: CLIP's algorithm, checked on the official ids; our own vocabulary files
follow CLIP's layout. Nouns: parsed from the caption string, never from the generator."""
import inspect
import json
import os

import numpy as np

import text
import world
from text import Tokenizer, learn_bpe, nouns, write_tokenizer_files

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIXTURE = os.path.join(REPO, "..", "shared", "fixtures", "groupvit-tiny")


def test_reproduces_official_ids_on_clip_vocabulary():
    tok = Tokenizer(FIXTURE)
    with open(os.path.join(FIXTURE, "tokenizer_cases.json")) as f:
        cases = json.load(f)["cases"]
    for c in cases:
        ids = tok([c["text"]])[0].tolist()
        n = len(c["input_ids"])
        assert ids[:n] == c["input_ids"], c["text"]
        assert all(i == 0 for i in ids[n:])
    with open(os.path.join(FIXTURE, "labels.json")) as f:
        prompts = json.load(f)["prompts"]
    np.testing.assert_array_equal(tok(prompts).numpy(), np.load(os.path.join(FIXTURE, "input_ids.npy")))


def test_own_vocabulary_layout(tmp_path):
    corpus = [world.scene(0, i)[1] for i in range(200)]
    merges = learn_bpe(corpus)
    write_tokenizer_files(tmp_path, merges)
    with open(tmp_path / "vocab.json") as f:
        vocab = json.load(f)
    assert len(vocab) == 512 + len(merges) + 2
    assert vocab["<|startoftext|>"] == len(vocab) - 2 and vocab["<|endoftext|>"] == len(vocab) - 1
    assert vocab["!"] == 0 and vocab["a</w>"] == 256 + vocab["a"]  # CLIP's byte symbol order
    assert open(tmp_path / "merges.txt").readline() == "#version: 0.2\n"
    tok = Tokenizer(tmp_path)
    for shape in world.SHAPES:  # every shape name the captions use became one token
        assert len(tok.encode(shape)) == 1
    ids = tok(["a photo of a heart."])[0]
    assert ids[0] == vocab["<|startoftext|>"] and int(ids.argmax()) == int((ids > 0).sum()) - 1
    assert tok.encode("an unseen zebra") != []  # byte fallback for words outside the corpus


def test_nouns_come_from_the_text():
    # the function sees only a string: no scene, no metadata
    assert list(inspect.signature(nouns).parameters) == ["caption"]
    assert nouns("a red circle next to a blue star") == ["circle", "star"]
    assert nouns("two shapes: a yellow heart and a green square") == ["heart", "square"]
    assert nouns("there is a small white cross on a striped background") == ["cross"]
    assert nouns("two circles and three crosses") == ["circle", "cross"]
    # a word the generator never uses is still found: the parser is not a shape list
    assert nouns("a tiny green dragon above a square") == ["dragon", "square"]


def test_nouns_match_the_shapes_named_in_generated_captions():
    for i in range(300):
        _, cap = world.scene(0, i)
        named = [w.strip(",:") for w in cap.split() if w.strip(",:") in world.SHAPES]
        assert sorted(nouns(cap)) == sorted(set(named)), cap
    assert text.prompt("star") == "a photo of a star."
