"""HGRN-Bit (the MatMul-free LM of arXiv 2406.02528), written from the paper's equations and the math
notes in engine/src/test/resources/golden/hgrn-bit-tiny (golden.json -> "math").

One module tree serves two purposes:
  * training (exact=False): the quantizers sit behind the straight-through estimator
    (forward uses the quantized values, backward treats the quantizer as identity) and the
    recurrence runs as a parallel scan, so a whole sequence trains in one pass;
  * reference inference (exact=True): float32, the quantizers applied literally (activations
    rounded half away from zero, weights half to even, the same divisions as the reference),
    and the recurrence run token by token. The numbers in reference.json come from this path.

Parameter names and shapes are those of the Hugging Face `hgrn_bit` checkpoints, so
`state_dict()` is the exported file (before the cast to bf16).
"""
import math
from dataclasses import dataclass, asdict

import torch
import torch.nn as nn
import torch.nn.functional as F

EPS = 1e-6   # every RMSNorm, the BitLinear's own included (the fused kernel's default)


@dataclass
class HGRNBitConfig:
    vocab_size: int = 8192
    hidden_size: int = 384
    num_hidden_layers: int = 6
    num_heads: int = 1
    hidden_ratio: int = 4
    intermediate_size: int | None = None
    rms_norm_eps: float = 1e-6
    bos_token_id: int = 1
    eos_token_id: int = 2
    initializer_range: float = 0.02

    @property
    def mlp_size(self):
        """I: the reference rounds 2/3 of hidden*ratio up to a multiple of 256."""
        if self.intermediate_size is not None:
            return self.intermediate_size
        return 256 * math.ceil(int(self.hidden_size * self.hidden_ratio * 2 / 3) / 256)

    def to_hf(self):
        """config.json with the same keys as the reference checkpoints."""
        return {
            "architectures": ["HGRNBitForCausalLM"],
            "attn_mode": "fused_recurrent",
            "bos_token_id": self.bos_token_id,
            "conv_size": 4,
            "dtype": "bfloat16",
            "eos_token_id": self.eos_token_id,
            "expand_ratio": 1,
            "fuse_cross_entropy": True,
            "hidden_act": "swish",
            "hidden_ratio": self.hidden_ratio,
            "hidden_size": self.hidden_size,
            "initializer_range": self.initializer_range,
            "intermediate_size": self.intermediate_size,
            "max_position_embeddings": 2048,
            "model_type": "hgrn_bit",
            "num_heads": self.num_heads,
            "num_hidden_layers": self.num_hidden_layers,
            "pad_token_id": None,
            "rms_norm_eps": self.rms_norm_eps,
            "share_conv_kernel": True,
            "tie_word_embeddings": False,
            "transformers_version": "5.17.0",
            "use_cache": True,
            "use_lower_bound": True,
            "use_short_conv": False,
            "vocab_size": self.vocab_size,
        }

    @staticmethod
    def from_hf(d):
        assert d["model_type"] == "hgrn_bit" and not d.get("use_short_conv") and d.get("use_lower_bound", True)
        return HGRNBitConfig(vocab_size=d["vocab_size"], hidden_size=d["hidden_size"],
                             num_hidden_layers=d["num_hidden_layers"], num_heads=d.get("num_heads", 1),
                             hidden_ratio=d.get("hidden_ratio", 4), intermediate_size=d.get("intermediate_size"),
                             rms_norm_eps=d.get("rms_norm_eps", 1e-6), bos_token_id=d.get("bos_token_id", 1),
                             eos_token_id=d.get("eos_token_id", 2))


# ---------------------------------------------------------------- elementwise pieces

def rms_norm(x, w):
    """x / sqrt(mean(x^2) + eps) * w, in the reference's order of operations."""
    return x * (1.0 / torch.sqrt(x.pow(2).mean(-1, keepdim=True) + EPS)) * w


def round_half_away(x):
    """Round to nearest, ties away from zero (C roundf), exactly: x - trunc(x) is exact in float."""
    t = torch.trunc(x)
    return t + torch.sign(x) * ((x - t).abs() >= 0.5).to(x.dtype)


def quantize_activations(y):
    """Per-row 8-bit absmax: q = clamp(round(y * 127/max|y|), -128, 127); returns q / s."""
    s = 127.0 / y.abs().amax(-1, keepdim=True).clamp(min=1e-5)
    return round_half_away(y * s).clamp(-128, 127) / s


def quantize_weights(w):
    """Per-tensor ternary: T = clamp(round_half_even(W / mean|W|), -1, 1); returns T / (1/mean|W|)."""
    s = 1.0 / w.abs().mean().clamp(min=1e-5)
    return torch.round(w * s).clamp(-1, 1) / s


def ste(x, q):
    """Forward value q, gradient of identity (the straight-through estimator)."""
    return x + (q - x).detach()


def linear_scan(a, b):
    """h_t = a_t * h_{t-1} + b_t over dim 1 with h_{-1} = 0, in log2(T) steps (Hillis-Steele).

    Each element holds the affine map of a span of steps; combining span (t-d, t] with the span
    before it composes the maps. Only products of gates in (0, 1) appear, so it is stable.
    """
    d, T = 1, a.shape[1]
    while d < T:
        b = torch.cat([b[:, :d], b[:, d:] + a[:, d:] * b[:, :-d]], dim=1)
        a = torch.cat([a[:, :d], a[:, d:] * a[:, :-d]], dim=1)
        d *= 2
    return b


# ---------------------------------------------------------------- modules

class RMSNorm(nn.Module):
    def __init__(self, size):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(size))

    def forward(self, x):
        return rms_norm(x, self.weight)


class BitLinear(nn.Module):
    """RMSNorm (own weight) -> int8 activations -> ternary weights -> matmul; no bias."""

    def __init__(self, in_features, out_features):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(out_features, in_features))
        self.norm = RMSNorm(in_features)

    def forward(self, x, exact=False):
        y = self.norm(x)
        if exact:
            return quantize_activations(y) @ quantize_weights(self.weight).t()
        return F.linear(ste(y, quantize_activations(y).detach()),
                        ste(self.weight, quantize_weights(self.weight).detach()))


class MLGRU(nn.Module):
    """The token mixer ("attn" in the checkpoints): a gated elementwise linear recurrence."""

    def __init__(self, cfg):
        super().__init__()
        H = cfg.hidden_size
        self.i_proj, self.f_proj, self.g_proj = BitLinear(H, H), BitLinear(H, H), BitLinear(H, H)
        self.g_norm = RMSNorm(H)
        self.o_proj = BitLinear(H, H)

    def forward(self, x, lower_bound, exact=False, state=None):
        """x [B,T,H]; lower_bound [H] or None (layer 0); state [B,H] or None. Returns (out, last state)."""
        i, f, g = self.i_proj(x, exact), self.f_proj(x, exact), self.g_proj(x, exact)
        f = torch.sigmoid(f)
        if lower_bound is not None:
            f = lower_bound + (1 - lower_bound) * f
        c = F.silu(i) * (1 - f)
        if exact:   # token by token, as an engine runs it
            h = torch.zeros_like(c[:, 0]) if state is None else state
            hs = []
            for t in range(c.shape[1]):
                h = f[:, t] * h + c[:, t]
                hs.append(h)
            hs = torch.stack(hs, dim=1)
        else:
            hs = linear_scan(f, c)
            if state is not None:
                hs = hs + torch.cumprod(f, dim=1) * state[:, None]
        o = self.g_norm(g) * F.silu(hs)
        return self.o_proj(o, exact), hs[:, -1]


class GLU(nn.Module):
    """The channel mixer: gate_proj gives [gate | up], out = down(silu(gate) * up)."""

    def __init__(self, cfg):
        super().__init__()
        self.gate_proj = BitLinear(cfg.hidden_size, 2 * cfg.mlp_size)
        self.down_proj = BitLinear(cfg.mlp_size, cfg.hidden_size)

    def forward(self, x, exact=False):
        gate, up = self.gate_proj(x, exact).chunk(2, dim=-1)
        return self.down_proj(F.silu(gate) * up, exact)


class Block(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.attn_norm = RMSNorm(cfg.hidden_size)
        self.attn = MLGRU(cfg)
        self.mlp_norm = RMSNorm(cfg.hidden_size)
        self.mlp = GLU(cfg)


class Backbone(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.embeddings = nn.Embedding(cfg.vocab_size, cfg.hidden_size)
        self.lower_bounds = nn.Parameter(torch.zeros(cfg.num_hidden_layers, cfg.hidden_size))
        self.layers = nn.ModuleList(Block(cfg) for _ in range(cfg.num_hidden_layers))
        self.norm = RMSNorm(cfg.hidden_size)


class HGRNBitLM(nn.Module):
    def __init__(self, cfg: HGRNBitConfig, dropout=0.0):
        super().__init__()
        self.cfg = cfg
        self.model = Backbone(cfg)
        self.lm_head = BitLinear(cfg.hidden_size, cfg.vocab_size)
        self.dropout = nn.Dropout(dropout)   # training only; inference has none
        self.reset_parameters()

    def reset_parameters(self):
        std = self.cfg.initializer_range
        for name, p in self.named_parameters():
            if name.endswith("norm.weight"):
                nn.init.ones_(p)
            elif name == "model.lower_bounds":
                nn.init.zeros_(p)
            else:
                nn.init.normal_(p, std=std)
                if name.endswith(("o_proj.weight", "down_proj.weight")):
                    # residual branches: keep the stream's variance independent of depth
                    p.data /= math.sqrt(2 * self.cfg.num_hidden_layers)

    def gammas(self):
        """Per-layer lower bounds: cumsum(softmax over layers) - first term; layer 0 gets none."""
        p = self.model.lower_bounds.softmax(dim=0)
        return p.cumsum(dim=0) - p[0]

    def forward(self, tokens, exact=False, states=None):
        """tokens [B,T] -> (logits [B,T,V], new per-layer states [B,H])."""
        h = self.model.embeddings(tokens)
        gam = self.gammas()
        new_states = []
        for l, block in enumerate(self.model.layers):
            lb = gam[l] if l > 0 else None
            a, s = block.attn(block.attn_norm(h), lb, exact, None if states is None else states[l])
            h = h + self.dropout(a)
            h = h + self.dropout(block.mlp(block.mlp_norm(h), exact))
            new_states.append(s)
        return self.lm_head(self.model.norm(h), exact), new_states


def load_hf(folder, device="cpu"):
    """Loads a Hugging Face hgrn_bit folder (config.json + model.safetensors) into float32."""
    import json, os
    from st_io import load
    with open(os.path.join(folder, "config.json")) as f:
        cfg = HGRNBitConfig.from_hf(json.load(f))
    model = HGRNBitLM(cfg)
    weights = load(os.path.join(folder, "model.safetensors"))
    missing = set(model.state_dict()) ^ set(weights)
    assert not missing, f"tensor names differ: {sorted(missing)}"
    model.load_state_dict({k: v.float() for k, v in weights.items()})
    return model.to(device).eval()
