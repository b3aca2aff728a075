"""Text side: the project's own CLIP-format BPE tokenizer, and the noun step.

Tokenizer. The Go engine reads vocab.json + merges.txt and tokenises with the
CLIP rules (fixture README, "Text"): clean, lowercase, split with the CLIP
pattern, bytes -> printable unicode, BPE by merge rank, `</w>` ends a word,
[SOT] + ids + [EOT], pad with 0 to 77. `Tokenizer` below is that algorithm in
Python, so training sees exactly the ids the Go binary will compute.
`learn_bpe` builds the files from our caption corpus: 256 byte symbols, the
same with `</w>`, one entry per learned merge, then <|startoftext|> and
<|endoftext|> as the last two ids (so EOT has the largest id, which is where
the text encoder pools).

Nouns. The multi-label loss needs the nouns of each caption. We get them from
the caption STRING with a small chunking parser (closed-class words split a
sentence into noun phrases; the head noun is the last word of each phrase),
exactly as the paper gets them with a POS tagger, never from the generator.
"""
import collections
import html
import json
import os
import re

import torch

SOT, EOT = "<|startoftext|>", "<|endoftext|>"
# CLIP's pattern with \p{L} -> [^\W\d_] and \p{N} -> \d (stdlib `re` has no \p{..});
# identical on everything our captions contain (and on ASCII in general).
PATTERN = re.compile(
    r"<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[^\W\d_]+|\d|(?:[^\s\w]|_)+", re.IGNORECASE)


def bytes_to_unicode():
    """CLIP/GPT-2 map from the 256 bytes to printable unicode characters."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs)))


BYTE_ENCODER = bytes_to_unicode()


def clean(text):
    # CLIP: ftfy (not used: our text is plain ASCII), html-unescape twice, collapse spaces, lowercase
    text = html.unescape(html.unescape(text)).strip()
    return re.sub(r"\s+", " ", text).strip().lower()


def words(text):
    """Cleaned text -> list of words, each as its byte-level unicode string."""
    return ["".join(BYTE_ENCODER[b] for b in w.encode("utf-8")) for w in PATTERN.findall(clean(text))]


def learn_bpe(corpus, max_merges=2000):
    """Classic BPE on word counts; returns the merges in rank order. A word's
    last symbol carries `</w>`, like CLIP, so merges learn word ends."""
    counts = collections.Counter(w for t in corpus for w in words(t) if w not in (SOT, EOT))
    vocab = {tuple(w[:-1]) + (w[-1] + "</w>",): c for w, c in counts.items()}
    merges = []
    while len(merges) < max_merges:
        pairs = collections.Counter()
        for word, c in vocab.items():
            for p in zip(word, word[1:]):
                pairs[p] += c
        if not pairs:
            break  # every word is a single symbol
        # most frequent pair; ties broken by the pair itself so the result is deterministic
        best = max(pairs.items(), key=lambda kv: (kv[1], kv[0]))[0]
        merges.append(best)
        vocab = {_merge_word(w, best): c for w, c in vocab.items()}
    return merges


def _merge_word(word, pair):
    out, i = [], 0
    while i < len(word):
        if i < len(word) - 1 and (word[i], word[i + 1]) == pair:
            out.append(word[i] + word[i + 1])
            i += 2
        else:
            out.append(word[i])
            i += 1
    return tuple(out)


def write_tokenizer_files(folder, merges):
    """vocab.json / merges.txt in the layout Hugging Face CLIPTokenizer reads."""
    symbols = list(BYTE_ENCODER.values())
    vocab = symbols + [s + "</w>" for s in symbols] + ["".join(m) for m in merges] + [SOT, EOT]
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "vocab.json"), "w", encoding="utf-8") as f:
        json.dump({s: i for i, s in enumerate(vocab)}, f, ensure_ascii=False)
    with open(os.path.join(folder, "merges.txt"), "w", encoding="utf-8") as f:
        f.write("#version: 0.2\n")
        for a, b in merges:
            f.write(f"{a} {b}\n")


class Tokenizer:
    """CLIP's SimpleTokenizer + Tokenize wrapper, reading vocab.json / merges.txt."""

    def __init__(self, folder):
        with open(os.path.join(folder, "vocab.json"), encoding="utf-8") as f:
            self.encoder = json.load(f)
        with open(os.path.join(folder, "merges.txt"), encoding="utf-8") as f:
            lines = f.read().split("\n")[1:]  # skip "#version"
        # CLIP uses the first vocab_size - 256*2 - 2 merge lines
        n = len(self.encoder) - 512 - 2
        self.ranks = {tuple(l.split()): i for i, l in enumerate(lines[:n]) if l}
        self.sot, self.eot = self.encoder[SOT], self.encoder[EOT]
        self.cache = {}

    def bpe(self, token):
        if token in self.cache:
            return self.cache[token]
        word = tuple(token[:-1]) + (token[-1] + "</w>",)
        while len(word) > 1:
            pairs = set(zip(word, word[1:]))
            best = min(pairs, key=lambda p: self.ranks.get(p, float("inf")))
            if best not in self.ranks:
                break
            word = _merge_word(word, best)  # left to right, all occurrences: as CLIP
        self.cache[token] = word
        return word

    def encode(self, text):
        ids = []
        for w in words(text):
            if w in (SOT, EOT):
                ids.append(self.encoder[w])
            else:
                ids.extend(self.encoder[s] for s in self.bpe(w))
        return ids

    def __call__(self, texts, context=77):
        """-> int64 [len(texts), context]: SOT ids EOT, cut to context (last = EOT), zero padded."""
        out = torch.zeros(len(texts), context, dtype=torch.int64)
        for i, t in enumerate(texts):
            ids = [self.sot] + self.encode(t) + [self.eot]
            if len(ids) > context:
                ids = ids[:context]
                ids[-1] = self.eot
            out[i, :len(ids)] = torch.tensor(ids)
        return out


# ----------------------------------------------------------------------------
# noun extraction: a chunking parser over the caption's words

# closed-class words: they end a noun phrase and are never nouns themselves
DETERMINERS = {"a", "an", "the", "one", "two", "three", "four", "five", "six", "this", "that", "some", "single"}
FUNCTION = {"and", "with", "of", "on", "in", "at", "next", "to", "above", "below", "over", "under", "beside",
            "left", "right", "top", "bottom", "there", "is", "are", "shows", "show", "picture", "image",
            "photo", "it", "its",
            # the wider world's captions (wideworld.py)
            "near", "middle", "we", "see", "drawn"}
# words that modify a noun (the tagger's adjectives): colours, sizes, textures
ADJECTIVES = {"red", "green", "blue", "yellow", "purple", "orange", "white", "black", "small", "little", "tiny",
              "large", "big", "plain", "flat", "gradient", "shaded", "noisy", "grainy", "striped",
              # the wider world's captions (wideworld.py): colours, sizes, outlines, backgrounds
              "grey", "pink", "brown", "cyan", "huge", "outlined", "hollow", "solid", "uniform", "fading", "stripy",
              "checkered", "chequered", "checked", "speckled", "textured", "patterned", "blotchy", "mottled",
              "cluttered", "busy"}
# generic nouns that name no visual category (the paper's prompts would be "a photo of a shape.")
GENERIC = {"shape", "background", "thing", "object", "scene", "backdrop", "drawing"}


def singular(w):
    if w.endswith("sses") or w.endswith("xes") or w.endswith("shes"):
        return w[:-2]
    if w.endswith("s") and not w.endswith("ss"):
        return w[:-1]
    return w


def nouns(caption):
    """Head nouns of the caption's noun phrases, in order, without repeats,
    generic ones dropped: "a red circle next to a blue star" -> [circle, star]."""
    found, phrase = [], []
    for tok in re.findall(r"[a-z]+|[^\sa-z]", clean(caption)) + ["."]:
        if tok in DETERMINERS or tok in FUNCTION or not tok.isalpha():
            if phrase:  # the phrase ends here; its last non-adjective word is the head
                heads = [w for w in phrase if w not in ADJECTIVES]
                if heads:
                    n = singular(heads[-1])
                    if n not in GENERIC and n not in found:
                        found.append(n)
            phrase = []
        else:
            phrase.append(tok)
    return found


TEMPLATE = "a photo of a {}."


def prompt(noun):
    return TEMPLATE.format(noun)
