"""Goldens for the training pieces: AdamW against torch.optim.AdamW (10 steps on given gradients, two
configs), Adam (L2 weight decay) against torch.optim.Adam, global-norm clipping against torch.nn.utils.clip_grad_norm_, and the VAE loss terms
(losses/vae_loss.c) written from the reference formulas: weighted_nll with a learnable logvar (L1, L2,
upstream SUM-over-C,H,W / MEAN-over-frames reduction and the mean reduction) and weighted_kl."""
import torch
from golden_util import to_vaec


def adamw_case(out, name, lr, wd, gen, optimizer=torch.optim.AdamW):
    p0 = torch.randn(4, 3, generator=gen)
    p1 = torch.randn(5, generator=gen)
    params = [p0.clone().requires_grad_(True), p1.clone().requires_grad_(True)]
    opt = optimizer(params, lr=lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=wd, foreach=False)
    out[f"{name}.p0"], out[f"{name}.p1"] = p0, p1
    for t in range(10):
        g0, g1 = torch.randn(4, 3, generator=gen), torch.randn(5, generator=gen) * 0.1
        out[f"{name}.g0_{t}"], out[f"{name}.g1_{t}"] = g0, g1
        params[0].grad, params[1].grad = g0.clone(), g1.clone()
        opt.step()
    out[f"{name}.final0"], out[f"{name}.final1"] = params[0].detach().clone(), params[1].detach().clone()


def generate():
    gen = torch.Generator().manual_seed(41)
    out = {}
    adamw_case(out, "adamw_wd", 1e-3, 0.01, gen)
    adamw_case(out, "adamw_stage", 1e-5, 0.0, gen)

    grads = [torch.randn(3, 4, generator=gen) * 2, torch.randn(7, generator=gen)]
    ps = [torch.zeros_like(g).requires_grad_(True) for g in grads]
    for p, g in zip(ps, grads):
        p.grad = g.clone()
    total = torch.nn.utils.clip_grad_norm_(ps, 1.0)
    out.update({"clip.g0": grads[0], "clip.g1": grads[1], "clip.total": total.reshape(1), "clip.c0": ps[0].grad,
                "clip.c1": ps[1].grad})

    x = torch.rand(2, 3, 3, 4, 5, generator=gen, dtype=torch.float64) * 2 - 1      # (B,C,T,H,W)
    xh = (x + 0.2 * torch.randn(x.shape, generator=gen, dtype=torch.float64)).requires_grad_(True)
    for kind in ("l1", "l2"):
        for red in ("up", "mean"):
            logvar = torch.tensor([0.3], dtype=torch.float64, requires_grad=True)
            rec = (x - xh).abs() if kind == "l1" else (x - xh) ** 2
            nll = rec / torch.exp(logvar) + logvar
            b, t = x.shape[0], x.shape[2]
            loss = nll.sum() / (b * t) if red == "up" else nll.mean()
            gxh, glv = torch.autograd.grad(loss, [xh, logvar])
            k = f"nll_{kind}_{red}"
            out.update({f"{k}.loss": loss.reshape(1), f"{k}.gxh": to_vaec(gxh), f"{k}.glogvar": glv})
    out.update({"nll.x": to_vaec(x), "nll.xh": to_vaec(xh)})

    moments = torch.randn(2, 8, 2, 3, 3, generator=gen, dtype=torch.float64).requires_grad_(True)
    mean, logvar = torch.chunk(moments, 2, dim=1)
    logvar = torch.clamp(logvar, -30, 20)
    kl = 0.5 * torch.sum(mean ** 2 + torch.exp(logvar) - 1 - logvar, dim=[1, 2, 3, 4])
    wkl = 1e-6 * kl.sum() / 2
    gm, = torch.autograd.grad(wkl, [moments])
    out.update({"kl.moments": to_vaec(moments), "kl.loss": wkl.reshape(1), "kl.gmoments": to_vaec(gm)})
    adamw_case(out, "adam_l2", 1e-3, 0.01, gen, torch.optim.Adam)   # weight decay added to the gradient
    return out
