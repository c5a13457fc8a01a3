"""Checks hgrn_bit.py against the golden outputs of the official implementation.

Usage: python3 check_golden.py GOLDEN_DIR   (GOLDEN_DIR holds config.json, model.safetensors,
golden.safetensors, golden.json of engine/src/test/resources/golden/hgrn-bit-tiny). Exit status 1 on a mismatch.
The training graph (STE + parallel scan) is checked too: in float32 its forward must equal the
reference math up to rounding, else the trained weights would not mean what the engine computes.
"""
import json
import sys

import torch

from hgrn_bit import load_hf
from st_io import load


def row_max(a, b):
    return (a - b).abs().amax(dim=-1)


def main(golden_dir, device):
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    model = load_hf(golden_dir, device)
    g = {k: v.to(device) for k, v in load(f"{golden_dir}/golden.safetensors").items()}
    report, ok = {}, True

    def check(name, delta, bound_all, bound_most=1e-4, frac=0.9):
        nonlocal ok
        passed = bool(delta.max() <= bound_all and (delta <= bound_most).float().mean() >= frac)
        ok &= passed
        report[name] = {"max": float(delta.max()), "rows_above_1e-4": int((delta > 1e-4).sum()), "pass": passed}

    with torch.no_grad():
        for T in (1, 8, 64):
            logits, states = model(g[f"prompt.len{T}"][None], exact=True)
            check(f"full.len{T}", row_max(logits[0], g[f"full.len{T}.logits"]), 0.1)
        for l in range(model.cfg.num_hidden_layers):
            check(f"state.len64.layer{l}", (states[l][0] - g[f"state.len64.layer{l}"].flatten()).abs()[None], 1e-3)
        check("lower_bound_effective", row_max(model.gammas()[1:], g["internals.lower_bound_effective"][1:]), 1e-6)

        # greedy: prefill the prompt, then feed our own argmax token by token with the carried state
        logits, states = model(g["greedy.prompt"][None], exact=True)
        row, tokens, rows = logits[0, -1], [], []
        for _ in range(g["greedy.tokens"].numel()):
            rows.append(row)
            tokens.append(int(row.argmax()))
            logits, states = model(torch.tensor([[tokens[-1]]], device=device), exact=True, states=states)
            row = logits[0, -1]
        same = tokens == g["greedy.tokens"].tolist()
        ok &= same
        report["greedy.tokens_equal"] = same
        # the official greedy run itself had an activation-code flip that leaked into later steps
        # (README: 0.0332 against its own no-cache forward), so only the loose bound applies here
        check("greedy.logits", row_max(torch.stack(rows), g["greedy.logits"]), 0.1, frac=0.0)

        # the training graph in float32 against the reference math
        train_logits, _ = model(g["prompt.len64"][None], exact=False)
        # the scan sums in another order, so states differ by ulps and codes flip now and then
        check("training_graph_vs_golden.len64", row_max(train_logits[0], g["full.len64.logits"]), 0.1, frac=0.0)

    print(json.dumps({"golden_check": report, "pass": ok}, indent=1))
    return ok


if __name__ == "__main__":
    dev = "cuda" if torch.cuda.is_available() else "cpu"
    sys.exit(0 if main(sys.argv[1], dev) else 1)
