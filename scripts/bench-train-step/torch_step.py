"""The PyTorch peer of bench.ts: the same pre-LN GPT decoder and the same training step
(forward, cross-entropy, backward, clip_grad_norm_, AdamW), timed in eager mode.
Prints one JSON line: {"tokens_per_s": ..., "step_ms": (median), "min_step_ms": ..., "loss": ...}."""
import json
import math
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

cfg = json.loads(sys.argv[1])
device = cfg.get("device", "cpu")
dtype_name = cfg.get("dtype", "fp32")
V, d, L, H, T, B = cfg["vocab"], cfg["dModel"], cfg["nLayers"], cfg["nHeads"], cfg["seq"], cfg["batch"]
if device == "cuda" and dtype_name == "tf32":
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True
if device == "cuda" and not torch.cuda.is_available():
    print(json.dumps({"error": f"this PyTorch ({torch.__version__}, {sys.executable}) has no CUDA device; "
                      "the GPU comparison needs a CUDA build of PyTorch (set BENCH_PYTHON to its interpreter)"}))
    sys.exit(2)
torch.manual_seed(0)
if cfg.get("threads"):
    torch.set_num_threads(int(cfg["threads"]))


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.ln1 = nn.LayerNorm(d)
        self.qkv = nn.Linear(d, 3 * d)
        self.o = nn.Linear(d, d)
        self.ln2 = nn.LayerNorm(d)
        self.w1 = nn.Linear(d, 4 * d)
        self.w2 = nn.Linear(4 * d, d)

    def forward(self, x, mask):
        a = self.ln1(x)
        q, k, v = self.qkv(a).view(B, T, 3, H, d // H).permute(2, 0, 3, 1, 4)
        s = (q @ k.transpose(-1, -2)) * (1.0 / math.sqrt(d // H)) + mask
        o = (s.softmax(-1) @ v).transpose(1, 2).reshape(B, T, d)
        h = x + self.o(o)
        return h + self.w2(F.gelu(self.w1(self.ln2(h))))


class GPT(nn.Module):
    def __init__(self):
        super().__init__()
        self.wte = nn.Parameter(torch.randn(V, d) * 0.02)
        self.wpe = nn.Parameter(torch.randn(T, d) * 0.02)
        self.blocks = nn.ModuleList([Block() for _ in range(L)])
        self.lnf = nn.LayerNorm(d)

    def forward(self, tokens, targets, mask):
        x = self.wte[tokens] + self.wpe
        for blk in self.blocks:
            x = blk(x, mask)
        logits = self.lnf(x).reshape(B * T, d) @ self.wte.t()
        return F.cross_entropy(logits, targets.reshape(B * T), ignore_index=-100)


model = GPT().to(device)
opt = torch.optim.AdamW(model.parameters(), lr=3e-4, weight_decay=0.01)
mask = torch.triu(torch.full((T, T), -1e9), diagonal=1).to(device)
g = torch.Generator().manual_seed(1)
tokens = torch.randint(0, V, (B, T), generator=g).to(device)
targets = torch.randint(0, V, (B, T), generator=g).to(device)
autocast = device == "cuda" and dtype_name == "bf16"


def step():
    if autocast:
        with torch.autocast("cuda", dtype=torch.bfloat16):
            loss = model(tokens, targets, mask)
    else:
        loss = model(tokens, targets, mask)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()
    opt.zero_grad(set_to_none=True)
    return loss


def sync():
    if device == "cuda":
        torch.cuda.synchronize()


for _ in range(cfg["warmup"]):
    step()
sync()
times = []
for _ in range(cfg["steps"]):
    t0 = time.perf_counter()
    loss = step()
    sync()
    times.append(time.perf_counter() - t0)
times.sort()
dt = times[len(times) // 2]


def blas_kernel():
    """The BLAS library and CPU kernel this process used (threadpoolctl, as scikit-learn reports it)."""
    try:
        import threadpoolctl
    except ImportError:
        return "unknown (threadpoolctl missing)"
    found = [f"{i.get('internal_api')} {i.get('architecture', '?')}" for i in threadpoolctl.threadpool_info()
             if i.get("user_api") == "blas"]
    return ", ".join(found) or "none"



print(json.dumps({"tokens_per_s": B * T / dt, "step_ms": dt * 1000, "min_step_ms": times[0] * 1000,
                  "loss": float(loss), "threads": torch.get_num_threads(), "torch": torch.__version__,
                  "params": sum(p.numel() for p in model.parameters()), "blas": blas_kernel()}))
