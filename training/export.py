"""Exports a training run as a Hugging Face `hgrn_bit` folder and records reference outputs.

Usage: python3 export.py --runs RUN_DIR... --data DATA_DIR --validation-txt FILE --out MODEL_DIR
Takes the run with the lowest held-out loss, writes MODEL_DIR/{config.json, model.safetensors (bf16),
tokenizer.json, tokenizer_config.json, generation_config.json, validation.txt}, then reloads that
folder and computes reference.json with the exact inference math (hgrn_bit.py, exact=True, float32,
TF32 off): the perplexity of validation.txt, the held-out split's loss, and greedy continuations
of fixed prompts. The engine's quality tests compare against these numbers.
"""
import argparse
import hashlib
import json
import math
import pathlib
import re
import shutil

import numpy as np
import torch
import torch.nn.functional as F
from tokenizers import Tokenizer

from hgrn_bit import HGRNBitConfig, HGRNBitLM, load_hf
from st_io import save

PROMPTS = [
    "In the beginning God created",
    "Mr. Speaker, Mr. Vice President, Members of Congress:",
    "And the LORD said unto Moses,",
    "The economy of our country",
]
NEW_TOKENS = 32
SCORING = ("tokens = [bos_token_id] + tokenizer.encode(text, add_special_tokens=False), text = the file's "
           "UTF-8 content as is (final newline included); one pass from the zero state; each of the N text "
           "tokens is predicted from everything before it (the first from <s> alone); "
           "nll = mean over the N predictions of -log softmax(logits)[token]; ppl = exp(nll)")
GREEDY = ("prefill [bos_token_id] + encode(prompt), then argmax of the logits 32 times, feeding each token "
          "back one step at a time with the recurrent state; </s> is not special (decoding goes on). "
          "gaps[k] = top1 - top2 logit at new token k; top1_logits[k] = the chosen token's logit")


def pick_run(runs):
    scored = []
    for run in runs:
        ckpt = run / "best.pt"
        if ckpt.exists():
            scored.append((torch.load(ckpt, map_location="cpu", weights_only=False)["val_loss"], run))
    for loss, run in sorted(scored):
        print(json.dumps({"run": str(run), "val_loss": loss}))
    return min(scored)[1]


def write_folder(run, data, validation_txt, out):
    ckpt = torch.load(run / "best.pt", map_location="cpu", weights_only=False)
    out.mkdir(parents=True, exist_ok=True)
    (out / "config.json").write_text(json.dumps(ckpt["config"], indent=2) + "\n")
    save({k: v.to(torch.bfloat16) for k, v in ckpt["state_dict"].items()}, out / "model.safetensors",
         metadata={"format": "pt"})
    shutil.copy(data / "tokenizer.json", out / "tokenizer.json")
    shutil.copy(validation_txt, out / "validation.txt")
    (out / "tokenizer_config.json").write_text(json.dumps({
        "tokenizer_class": "PreTrainedTokenizerFast",
        "bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>",
        "add_bos_token": True, "add_eos_token": False,
        "clean_up_tokenization_spaces": False, "model_max_length": 1000000,
    }, indent=2) + "\n")
    (out / "generation_config.json").write_text(json.dumps({
        "bos_token_id": 1, "eos_token_id": 2, "do_sample": True,
        "temperature": 0.8, "top_k": 50, "top_p": 0.95, "repetition_penalty": 1.1, "max_new_tokens": 128,
    }, indent=2) + "\n")


@torch.no_grad()
def heldout_loss(model, data, seq, device):
    """Held-out split, windows of `seq` tokens from the zero state, float32 (training graph = same math)."""
    stream = torch.from_numpy(np.fromfile(data / "validation.u16", dtype=np.uint16).astype(np.int64)).to(device)
    n = (stream.numel() - 1) // seq
    x, y = stream[: n * seq].view(n, seq), stream[1 : n * seq + 1].view(n, seq)
    total = 0.0
    for k in range(0, n, 32):
        logits, _ = model(x[k : k + 32])
        total += F.cross_entropy(logits.flatten(0, 1), y[k : k + 32].flatten(), reduction="sum").item()
    return total / y.numel(), y.numel()


@torch.no_grad()
def reference(model_dir, data, device):
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    model = load_hf(model_dir, device)
    cfg = model.cfg
    tok = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    text = (model_dir / "validation.txt").read_text(encoding="utf-8")
    ids = tok.encode(text, add_special_tokens=False).ids
    tokens = torch.tensor([[cfg.bos_token_id] + ids], device=device)
    logits, _ = model(tokens, exact=True)
    nll = F.cross_entropy(logits[0, :-1], tokens[0, 1:]).item()
    assert tok.decode(ids) == text, "the tokenizer must round-trip the validation text"

    greedy = []
    for prompt in PROMPTS:
        prompt_ids = [cfg.bos_token_id] + tok.encode(prompt, add_special_tokens=False).ids
        logits, states = model(torch.tensor([prompt_ids], device=device), exact=True)
        out, gaps, top1 = [], [], []
        for _ in range(NEW_TOKENS):
            row = logits[0, -1]
            best2 = row.topk(2)
            out.append(int(best2.indices[0]))
            gaps.append(round(float(best2.values[0] - best2.values[1]), 6))
            top1.append(round(float(best2.values[0]), 6))
            logits, states = model(torch.tensor([[out[-1]]], device=device), exact=True, states=states)
        greedy.append({"prompt": prompt, "prompt_ids": prompt_ids, "tokens": out, "text": tok.decode(out),
                       "gaps": gaps, "top1_logits": top1, "min_gap": min(gaps)})
        print(json.dumps({"prompt": prompt, "continuation": tok.decode(out), "min_gap": min(gaps)}))

    held_nll, held_n = heldout_loss(model, data, 512, device)
    weights = (model_dir / "model.safetensors").read_bytes()
    return {
        "model": model_dir.name,
        "model_safetensors_sha256": hashlib.sha256(weights).hexdigest(),
        "computed_with": f"training/hgrn_bit.py exact=True (reference inference math), float32, TF32 off, "
                         f"torch {torch.__version__}, {torch.cuda.get_device_name() if device == 'cuda' else 'cpu'}",
        "vocab_size": cfg.vocab_size,
        "perplexity": {"file": "validation.txt", "scoring": SCORING, "tokens": len(ids), "nll": nll,
                       "ppl": math.exp(nll), "uniform_ppl": cfg.vocab_size, "ids": ids},
        "heldout_split": {"what": "whole held-out split of the corpus (see README), as <s> doc </s> streams cut into "
                                  "windows of 512 predictions, each from the zero state",
                          "tokens": held_n, "nll": held_nll, "ppl": math.exp(held_nll)},
        "greedy_policy": GREEDY,
        "greedy": greedy,
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=pathlib.Path, nargs="+", required=True)
    ap.add_argument("--data", type=pathlib.Path, required=True)
    ap.add_argument("--validation-txt", type=pathlib.Path, required=True)
    ap.add_argument("--out", type=pathlib.Path, required=True)
    args = ap.parse_args()
    device = "cuda" if torch.cuda.is_available() else "cpu"
    run = pick_run(args.runs)
    write_folder(run, args.data, args.validation_txt, args.out)
    ref = reference(args.out, args.data, device)
    ref["training_run"] = json.loads((run / "log.json").read_text())
    text = json.dumps(ref, indent=1)
    text = re.sub(r"\[\s*([-0-9.e,\s]+?)\s*\]", lambda m: "[" + ", ".join(m.group(1).split()).replace(",,", ",") + "]", text)
    (args.out / "reference.json").write_text(text + "\n")
    print(json.dumps({k: ref[k] for k in ("perplexity", "heldout_split")} | {"run": str(run)}, default=str)[:2000])


if __name__ == "__main__":
    main()
