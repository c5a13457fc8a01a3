"""Trains the byte-level BPE tokenizer on the training split and tokenizes both splits.

Usage: python3 tokenize_corpus.py --corpus corpus.jsonl.gz --vocab 8192 --out DIR
Writes DIR/tokenizer.json and DIR/{train,validation}.u16: the documents of each split, each as
<s> ids </s>, concatenated (uint16 token ids). Ids 0, 1, 2 are <unk>, <s>, </s>.
The tokenizer has no normalizer and no post-processor: encode() returns the text's ids only, and
callers add <s> themselves (the quality tests and the engine do the same).
"""
import argparse
import gzip
import json
import pathlib

import numpy as np
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

SPECIALS = ["<unk>", "<s>", "</s>"]
BOS, EOS = 1, 2


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", type=pathlib.Path, required=True)
    ap.add_argument("--vocab", type=int, default=8192)
    ap.add_argument("--out", type=pathlib.Path, required=True)
    args = ap.parse_args()
    with gzip.open(args.corpus, "rt", encoding="utf-8") as f:
        docs = [json.loads(line) for line in f]

    tok = Tokenizer(models.BPE(unk_token=None))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=args.vocab, min_frequency=2, special_tokens=SPECIALS,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator((d["text"] for d in docs if d["split"] == "train"), trainer=trainer)
    assert [tok.token_to_id(s) for s in SPECIALS] == [0, 1, 2]
    args.out.mkdir(parents=True, exist_ok=True)
    tok.save(str(args.out / "tokenizer.json"))

    stats = {"vocab_size": tok.get_vocab_size()}
    for split in ("train", "validation"):
        texts = [d["text"] for d in docs if d["split"] == split]
        stream = []
        for enc in tok.encode_batch(texts, add_special_tokens=False):
            stream += [BOS] + enc.ids + [EOS]
        arr = np.asarray(stream, dtype=np.uint16)
        arr.tofile(args.out / f"{split}.u16")
        chars = sum(len(t) for t in texts)
        stats[split] = {"docs": len(texts), "chars": chars, "tokens": int(arr.size),
                        "chars_per_token": round(chars / (arr.size - 2 * len(texts)), 3)}
    print(json.dumps({"tokenizer": stats}))


if __name__ == "__main__":
    main()
