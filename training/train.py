"""Trains HGRN-Bit on the tokenized corpus (tokenize_corpus.py's output).

Usage: python3 train.py --data DIR --out RUN_DIR [--hidden 384 --layers 6 --lr 2e-3 ...]
Latent weights in float32, matmuls in bf16 (autocast), quantizers behind the straight-through
estimator. Batches are random windows of the training stream. Every `--eval-every` steps the
held-out split is scored (fresh state per window of --seq tokens) and the best weights so far are
kept: RUN_DIR/best.pt holds them with the config; RUN_DIR/log.json the curve.
The schedule (linear warm-up, cosine decay to 10%) spans --epochs passes over the training stream,
shortened once the measured step time shows they would not fit in --time-budget seconds.
"""
import argparse
import json
import math
import pathlib
import time

import numpy as np
import torch
import torch.nn.functional as F

from hgrn_bit import HGRNBitConfig, HGRNBitLM


def parse():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=pathlib.Path, required=True)
    ap.add_argument("--out", type=pathlib.Path, required=True)
    ap.add_argument("--hidden", type=int, default=384)
    ap.add_argument("--layers", type=int, default=6)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--min-lr-ratio", type=float, default=0.1)
    ap.add_argument("--weight-decay", type=float, default=0.05)
    ap.add_argument("--dropout", type=float, default=0.0)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--seq", type=int, default=512)
    ap.add_argument("--epochs", type=float, default=8)
    ap.add_argument("--warmup", type=int, default=100)
    ap.add_argument("--eval-every", type=int, default=50)
    ap.add_argument("--time-budget", type=float, default=300, help="seconds for the whole run")
    ap.add_argument("--compile", action="store_true")
    ap.add_argument("--seed", type=int, default=0)
    return ap.parse_args()


def windows(stream, seq):
    """Non-overlapping windows of seq+1 tokens (inputs and shifted targets) covering the stream."""
    n = (stream.numel() - 1) // seq
    x = stream[: n * seq].view(n, seq)
    y = stream[1 : n * seq + 1].view(n, seq)
    return x, y


@torch.no_grad()
def evaluate(model, val, seq, batch, device):
    """Mean next-token NLL over the held-out stream (training graph, eval mode)."""
    model.eval()
    x, y = windows(val, seq)
    total, count = 0.0, 0
    for k in range(0, x.shape[0], batch):
        with torch.autocast(device, dtype=torch.bfloat16, enabled=device == "cuda"):
            logits, _ = model(x[k : k + batch])
        total += F.cross_entropy(logits.float().flatten(0, 1), y[k : k + batch].flatten(), reduction="sum").item()
        count += y[k : k + batch].numel()
    model.train()
    return total / count


def main():
    args = parse()
    torch.manual_seed(args.seed)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    torch.backends.cuda.matmul.allow_tf32 = True
    args.out.mkdir(parents=True, exist_ok=True)
    t0 = time.time()

    meta = json.loads((args.data / "tokenizer.json").read_text())
    vocab = len(meta["model"]["vocab"])
    train = torch.from_numpy(np.fromfile(args.data / "train.u16", dtype=np.uint16).astype(np.int64)).to(device)
    val = torch.from_numpy(np.fromfile(args.data / "validation.u16", dtype=np.uint16).astype(np.int64)).to(device)

    cfg = HGRNBitConfig(vocab_size=vocab, hidden_size=args.hidden, num_hidden_layers=args.layers)
    model = HGRNBitLM(cfg, dropout=args.dropout).to(device)
    n_params = sum(p.numel() for p in model.parameters())
    decay = [p for n, p in model.named_parameters() if p.dim() == 2 and n != "model.lower_bounds"]
    no_decay = [p for n, p in model.named_parameters() if not (p.dim() == 2 and n != "model.lower_bounds")]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": args.weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}],
                            lr=args.lr, betas=(0.9, 0.95), eps=1e-8, **({"fused": True} if device == "cuda" else {}))
    fwd = torch.compile(model) if args.compile else model

    tokens_per_step = args.batch * args.seq
    total_steps = max(args.warmup + 1, int(args.epochs * train.numel() / tokens_per_step))
    log = {"args": {k: str(v) for k, v in vars(args).items()}, "params": n_params,
           "train_tokens": train.numel(), "val_tokens": val.numel(), "curve": []}
    print(json.dumps({"params": n_params, "train_tokens": train.numel(), "planned_steps": total_steps}), flush=True)

    def lr_at(step):
        if step < args.warmup:
            return args.lr * (step + 1) / args.warmup
        p = min(1.0, (step - args.warmup) / max(1, total_steps - args.warmup))
        return args.lr * (args.min_lr_ratio + (1 - args.min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * p)))

    best, best_state, step, timed_from = float("inf"), None, 0, None
    while step < total_steps:
        for group in opt.param_groups:
            group["lr"] = lr_at(step)
        starts = torch.randint(0, train.numel() - args.seq - 1, (args.batch,), device=device)
        idx = starts[:, None] + torch.arange(args.seq + 1, device=device)
        batch = train[idx]
        try:
            with torch.autocast(device, dtype=torch.bfloat16, enabled=device == "cuda"):
                logits, _ = fwd(batch[:, :-1])
            loss = F.cross_entropy(logits.float().flatten(0, 1), batch[:, 1:].flatten())
            opt.zero_grad(set_to_none=True)
            loss.backward()
        except Exception as e:   # torch.compile failed on this machine: train eagerly instead
            if fwd is model:
                raise
            print(json.dumps({"compile_failed": repr(e)[:500]}), flush=True)
            fwd = model
            continue
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1

        if step == 10:   # compile and warm-up are behind us: time the steady state
            if device == "cuda":
                torch.cuda.synchronize()
            timed_from = time.time()
        if timed_from is not None and step >= 40 and (step == 40 or step % args.eval_every == 0):
            # re-plan from the measured step time (other runs may share the GPU), never past the budget
            if device == "cuda":
                torch.cuda.synchronize()
            per_step = (time.time() - timed_from) / (step - 10) * 1.05   # ~5% for evaluations
            fit = step + int((args.time_budget - (time.time() - t0) - 10) / per_step)
            if fit < total_steps:
                total_steps = max(step + 1, fit)
            if step == 40:
                print(json.dumps({"step_s": round(per_step, 4), "tok_per_s": int(tokens_per_step / per_step),
                                  "steps": total_steps,
                                  "epochs": round(total_steps * tokens_per_step / train.numel(), 2)}), flush=True)
        if step % args.eval_every == 0 or step == total_steps:
            v = evaluate(model, val, args.seq, args.batch, device)
            point = {"step": step, "train_loss": round(loss.item(), 4), "val_loss": round(v, 4),
                     "lr": lr_at(step - 1), "elapsed_s": round(time.time() - t0, 1),
                     "epochs": round(step * tokens_per_step / train.numel(), 2)}
            log["curve"].append(point)
            print(json.dumps(point), flush=True)
            if v < best:
                best = v
                best_state = {k: t.detach().float().cpu().clone() for k, t in model.state_dict().items()}

    log["best_val_loss"] = best
    log["best_val_ppl"] = math.exp(best)
    log["elapsed_s"] = time.time() - t0
    torch.save({"config": cfg.to_hf(), "state_dict": best_state, "val_loss": best}, args.out / "best.pt")
    (args.out / "log.json").write_text(json.dumps(log, indent=1))
    print(json.dumps({"best_val_loss": best, "best_val_ppl": math.exp(best)}), flush=True)


if __name__ == "__main__":
    main()
