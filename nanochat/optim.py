"""One optimizer for the whole GPT: Muon for block matrices, AdamW for everything else; LR schedules.

Muon (per same-shape group, so orthogonalization runs batched over the stacked matrices):
Nesterov momentum (coefficient warmed up from ``muon_momentum_start`` to ``_end``, optionally
warmed back down over the last ``muon_momentum_warmdown_ratio`` of training), Polar-Express
orthogonalization (bf16 on CUDA, fp32 elsewhere), a NorMuon second moment per row (tall matrices)
or column (wide ones) that evens out the update's scale across neurons while keeping its Frobenius
norm, cautious weight decay (decay only entries where the update also shrinks the parameter) and a
shape-aware LR ``lr * max(1, rows / cols) ** 0.5``.

AdamW groups: token embedding, value embeddings, head, resid_lambdas, x0_lambdas, each with its own
LR. Embedding and head LRs scale as ``(model_dim / lr_reference_dim) ** -0.5`` (wider models take
smaller Adam steps, as in muP-style width transfer). Every LR scales as
``sqrt(total_batch_tokens / lr_reference_batch)``: the square-root rule keeps the update's noise
scale roughly constant as the batch changes, the usual choice for Adam-type optimizers.
"""

from __future__ import annotations

from collections import defaultdict

import torch

from nanochat.config import OptimConfig

# Polar Express (Amsel et al., 2025) quintic coefficients (a, b, c) per iteration, for inputs
# normalised to spectral norm <= 1; the last triple repeats if more iterations are asked for.
POLAR_EXPRESS_COEFFS = (
    (8.156554524902461, -22.48329292557795, 15.878769915207462),
    (4.042929935166739, -2.808917465908714, 0.5000178451051316),
    (3.8916678022926607, -2.772484153217685, 0.5060648178503393),
    (3.285753657755655, -2.3681294933425376, 0.46449024233003106),
    (2.3465413258596377, -1.7097828382687081, 0.42323551169305323),
)
NORM_SAFETY = 1.02  # divide by a bit more than the Frobenius norm so no singular value exceeds 1
NS_DTYPES = {"bfloat16": torch.bfloat16, "float32": torch.float32}
EPS = torch.finfo(torch.float32).eps  # guards divisions by a norm or a second moment


def orthogonalize(g: torch.Tensor, steps: int, dtype: torch.dtype = torch.bfloat16) -> torch.Tensor:
    """Approximate the orthogonal polar factor U V^T of g (..., rows, cols) with Polar Express.

    bf16 by default on every device, as in nanochat: the iteration only needs the spectrum
    flattened, and bf16 matmuls halve its cost on CPU too (measured against fp32 on this CPU).
    """
    x = g.to(dtype)
    if x.dim() == 2:
        x = x.unsqueeze(0)  # baddbmm wants a batch dimension
    is_tall = x.size(-2) > x.size(-1)
    if is_tall:
        x = x.mT  # iterate on the wide side so X X^T is the small Gram matrix
    x = x / (x.norm(dim=(-2, -1), keepdim=True) * NORM_SAFETY + EPS)
    for i in range(steps):
        a, b, c = POLAR_EXPRESS_COEFFS[min(i, len(POLAR_EXPRESS_COEFFS) - 1)]
        gram = x @ x.mT
        poly = torch.baddbmm(gram, gram, gram, beta=b, alpha=c)  # b * G + c * G @ G
        x = torch.baddbmm(x, poly, x, beta=a)  # a * X + poly @ X
    return (x.mT if is_tall else x).to(g.dtype)


def check_optim_config(config: OptimConfig) -> None:
    """Raise ValueError naming the flag and its bad value when the schedule or optimizer cannot use it."""
    c = config
    rules = [
        (c.warmup_steps >= 0, f"--warmup-steps {c.warmup_steps}: must be >= 0"),
        (0 <= c.warmdown_ratio <= 1, f"--warmdown-ratio {c.warmdown_ratio}: must be in [0, 1]"),
        (0 <= c.final_lr_frac <= 1, f"--final-lr-frac {c.final_lr_frac}: must be in [0, 1]"),
        (c.muon_ns_steps >= 1, f"--muon-ns-steps {c.muon_ns_steps}: must be at least 1"),
        (
            c.muon_ns_dtype in NS_DTYPES,
            f"--muon-ns-dtype {c.muon_ns_dtype}: use one of {', '.join(NS_DTYPES)}",
        ),
        (0 <= c.muon_beta2 < 1, f"--muon-beta2 {c.muon_beta2}: must be in [0, 1)"),
        (
            0 <= c.muon_momentum_warmdown_ratio <= 1,
            f"--muon-momentum-warmdown-ratio {c.muon_momentum_warmdown_ratio}: must be in [0, 1]",
        ),
        (
            all(0 <= b < 1 for b in c.adam_betas),
            f"--adam-betas {c.adam_betas}: each must be in [0, 1)",
        ),
        (
            c.lr_reference_dim > 0 and c.lr_reference_batch > 0,
            "--lr-reference-dim/--lr-reference-batch: must be positive",
        ),
        (
            min(c.embedding_lr, c.unembedding_lr, c.matrix_lr, c.scalar_lr) >= 0,
            "learning rates (--embedding-lr, --unembedding-lr, --matrix-lr, --scalar-lr) must be >= 0",
        ),
    ]
    for is_ok, message in rules:
        if not is_ok:
            raise ValueError(message)


class MuonAdamW(torch.optim.Optimizer):
    """Each param group has ``kind`` 'muon' or 'adamw' plus that kind's hyperparameters.

    Every group carries ``initial_lr`` and ``initial_weight_decay``; ``apply_schedule`` sets
    ``lr``, ``weight_decay`` and the Muon ``momentum`` from them each step.
    """

    def __init__(self, param_groups: list[dict]):
        for group in param_groups:
            if group.get("kind") not in ("muon", "adamw"):
                raise ValueError(f"param group kind {group.get('kind')!r}: use 'muon' or 'adamw'")
            group.setdefault("initial_lr", group["lr"])
            group.setdefault("initial_weight_decay", group["weight_decay"])
        super().__init__(param_groups, {})

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            if group["kind"] == "muon":
                self._muon_step(group)
            else:
                self._adamw_step(group)
        return loss

    def _adamw_step(self, group: dict) -> None:
        beta1, beta2 = group["betas"]
        lr, wd, eps = group["lr"], group["weight_decay"], group["eps"]
        for p in group["params"]:
            if p.grad is None:
                continue
            state = self.state[p]
            if not state:
                state["step"] = 0
                state["exp_avg"] = torch.zeros_like(p)
                state["exp_avg_sq"] = torch.zeros_like(p)
            state["step"] += 1
            t = state["step"]
            state["exp_avg"].lerp_(p.grad, 1 - beta1)
            state["exp_avg_sq"].mul_(beta2).addcmul_(p.grad, p.grad, value=1 - beta2)
            denom = (state["exp_avg_sq"] / (1 - beta2**t)).sqrt_().add_(eps)
            if wd:
                p.mul_(1 - lr * wd)
            p.addcdiv_(state["exp_avg"], denom, value=-lr / (1 - beta1**t))

    def _muon_step(self, group: dict) -> None:
        params = [p for p in group["params"] if p.grad is not None]
        if not params:
            return
        rows, cols = params[0].shape
        momentum, beta2 = group["momentum"], group["beta2"]
        reduce_dim = (
            -1 if rows >= cols else -2
        )  # per-row moment for tall matrices, per-column for wide
        updates = []
        for p in params:
            state = self.state[p]
            if not state:
                state["momentum_buffer"] = torch.zeros_like(p)
                moment_shape = (rows, 1) if reduce_dim == -1 else (1, cols)
                state["second_moment"] = torch.zeros(
                    moment_shape, device=p.device, dtype=torch.float32
                )
            buf = state["momentum_buffer"]
            buf.lerp_(p.grad, 1 - momentum)
            updates.append(p.grad.lerp(buf, momentum))  # Nesterov: look ahead along the momentum
        update = orthogonalize(
            torch.stack(updates), group["ns_steps"], NS_DTYPES[group["ns_dtype"]]
        ).float()  # (N, rows, cols)
        moments = torch.stack([self.state[p]["second_moment"] for p in params])
        moments.lerp_(update.square().mean(dim=reduce_dim, keepdim=True), 1 - beta2)
        norm_before = update.norm(dim=(-2, -1), keepdim=True)
        update = update * moments.clamp_min(EPS**2).rsqrt()
        update = update * (norm_before / update.norm(dim=(-2, -1), keepdim=True).clamp_min(EPS))
        lr = group["lr"] * max(1.0, rows / cols) ** 0.5
        wd = group["weight_decay"]
        for i, p in enumerate(params):
            self.state[p]["second_moment"].copy_(moments[i])
            u = update[i].to(p.dtype)
            if wd:
                p.sub_(
                    p * (u * p >= 0), alpha=lr * wd
                )  # cautious: decay only where the step agrees
            p.sub_(u, alpha=lr)


def param_groups(model, config: OptimConfig, total_batch_tokens: int) -> list[dict]:
    """Optimizer groups for a GPT: one Muon group per block-matrix shape, one AdamW group per role."""
    batch_scale = (total_batch_tokens / config.lr_reference_batch) ** 0.5
    width_scale = (model.config.model_dim / config.lr_reference_dim) ** -0.5

    def adamw(params, lr, betas=config.adam_betas):
        return {
            "kind": "adamw",
            "params": list(params),
            "lr": lr * batch_scale,
            "betas": betas,
            "eps": config.adam_eps,
            "weight_decay": config.adam_weight_decay,
        }

    by_shape: dict[tuple[int, ...], list] = defaultdict(list)
    for p in model.blocks.parameters():
        by_shape[tuple(p.shape)].append(p)
    groups = [
        {
            "kind": "muon",
            "params": params,
            "lr": config.matrix_lr * batch_scale,
            "momentum": config.muon_momentum_start,
            "beta2": config.muon_beta2,
            "ns_steps": config.muon_ns_steps,
            "ns_dtype": config.muon_ns_dtype,
            "weight_decay": config.weight_decay,
        }
        for _, params in sorted(by_shape.items())
    ]
    groups.append(adamw([model.wte.weight], config.embedding_lr * width_scale))
    if len(model.value_embeds):
        groups.append(adamw(model.value_embeds.parameters(), config.embedding_lr * width_scale))
    groups.append(adamw([model.lm_head.weight], config.unembedding_lr * width_scale))
    groups.append(adamw([model.resid_lambdas], config.scalar_lr * config.resid_lr_frac))
    groups.append(adamw([model.x0_lambdas], config.scalar_lr))
    return groups


def build_optimizer(model, config: OptimConfig, total_batch_tokens: int) -> MuonAdamW:
    return MuonAdamW(param_groups(model, config, total_batch_tokens))


def lr_multiplier(step: int, progress: float, config: OptimConfig) -> float:
    """Linear warm-up over ``warmup_steps`` steps, constant, then linear warm-down to ``final_lr_frac``.

    ``progress`` in [0, 1] is step / num_steps, or elapsed training time / time budget.
    """
    if step < config.warmup_steps:
        return (step + 1) / config.warmup_steps
    progress = min(max(progress, 0.0), 1.0)
    if config.warmdown_ratio <= 0 or progress <= 1.0 - config.warmdown_ratio:
        return 1.0
    remaining = (1.0 - progress) / config.warmdown_ratio  # 1 at warm-down start, 0 at the end
    return config.final_lr_frac + (1.0 - config.final_lr_frac) * remaining


def muon_momentum(step: int, config: OptimConfig, progress: float = 0.0) -> float:
    """Muon momentum: linear from ``muon_momentum_start`` to ``_end`` over the warm-up steps, then,
    over the last ``muon_momentum_warmdown_ratio`` of progress, linearly back to ``_start``."""
    start, end = config.muon_momentum_start, config.muon_momentum_end
    warmup = config.muon_momentum_warmup_steps
    frac = min(step / warmup, 1.0) if warmup > 0 else 1.0
    ratio = config.muon_momentum_warmdown_ratio
    progress = min(max(progress, 0.0), 1.0)
    if ratio > 0 and progress > 1.0 - ratio:
        frac = min(frac, (1.0 - progress) / ratio)
    return start + (end - start) * frac


def weight_decay_multiplier(progress: float) -> float:
    """Weight decay decays linearly to zero over training."""
    return 1.0 - min(max(progress, 0.0), 1.0)


def apply_schedule(optimizer: MuonAdamW, step: int, progress: float, config: OptimConfig) -> float:
    """Set every group's lr, weight decay (and Muon momentum) for this step; return the LR multiplier.

    A group with ``is_decay_scheduled`` False keeps its initial weight decay (the gpt2 baseline).
    """
    lrm = lr_multiplier(step, progress, config)
    wdm = weight_decay_multiplier(progress)
    momentum = muon_momentum(step, config, progress)
    for group in optimizer.param_groups:
        group["lr"] = group["initial_lr"] * lrm
        is_decay_scheduled = group.get("is_decay_scheduled", True)
        group["weight_decay"] = group["initial_weight_decay"] * (wdm if is_decay_scheduled else 1.0)
        if group["kind"] == "muon":
            group["momentum"] = momentum
    return lrm
