# harness-golden: path=nanochat/tokenizer.py
"""A tokenizer pre-pass whose conditions pile up."""


def count_pairs(docs, counts, vocab):
    for doc in docs:
        for word in doc.split():
            if word:
                for a, b in zip(word, word[1:]):
                    if a in vocab:
                        if b in vocab:  # expect: NC506
                            counts[a + b] = counts.get(a + b, 0) + 1
    return counts
