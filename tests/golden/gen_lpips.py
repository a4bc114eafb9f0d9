"""Goldens for layers/lpips.c and the perceptual term of losses/vae_loss.c, from the reference in
lpips_ref.py with weights from golden_util.fill_deterministic (params_fill_deterministic on the C side),
so no weights are committed.
  lpips.*: d(x, x_hat) on (2,3,32,32) images in [-1,1], and the gradients of sum(d * gy) w.r.t. both
  ploss.*: upstream's weighted_nll with the perceptual term on a (1,3,2,16,16) video:
           rec = |x - x_hat| + w * LPIPS per frame, broadcast over C,H,W; nll = rec / exp(logvar) + logvar;
           loss = sum(nll) / (B*T); with the gradients w.r.t. x_hat and logvar."""
import torch
from golden_util import backward, fill_deterministic, to_vaec
from lpips_ref import Lpips

PERCEPTUAL_WEIGHT = 20.0   # upstream uses 0.1; large here so the term shows in the value and gradients


def generate():
    gen = torch.Generator().manual_seed(11)
    out = {}
    net = Lpips()
    fill_deterministic(net)
    net = net.double()

    x = (torch.rand(2, 3, 32, 32, generator=gen, dtype=torch.float64) * 2 - 1)
    xh = (x + 0.3 * torch.randn(x.shape, generator=gen, dtype=torch.float64)).clamp(-1, 1)
    x = x.to(torch.float32).double().requires_grad_(True)   # the inputs C sees, exactly
    xh = xh.to(torch.float32).double().requires_grad_(True)
    d = net(x, xh)
    gy, (gx, gxh) = backward(d, [x, xh], gen)
    out.update({"lpips.x": to_vaec(x), "lpips.xh": to_vaec(xh), "lpips.d": to_vaec(d), "lpips.gy": to_vaec(gy),
                "lpips.gx": to_vaec(gx), "lpips.gxh": to_vaec(gxh)})

    b, c, t, h, w = 1, 3, 2, 16, 16
    v = (torch.rand(b, c, t, h, w, generator=gen, dtype=torch.float64) * 2 - 1).to(torch.float32).double()
    vh = (v + 0.2 * torch.randn(v.shape, generator=gen, dtype=torch.float64)).clamp(-1, 1)
    vh = vh.to(torch.float32).double().requires_grad_(True)
    logvar = torch.tensor(0.3, dtype=torch.float64, requires_grad=True)
    frames = v.permute(0, 2, 1, 3, 4).reshape(b * t, c, h, w)        # b c t h w -> (b t) c h w
    frames_h = vh.permute(0, 2, 1, 3, 4).reshape(b * t, c, h, w)
    rec = (frames - frames_h).abs() + PERCEPTUAL_WEIGHT * net(frames, frames_h)
    nll = rec / torch.exp(logvar) + logvar
    loss = nll.sum() / nll.shape[0]
    gvh, glogvar = torch.autograd.grad(loss, [vh, logvar])
    out.update({"ploss.x": to_vaec(v), "ploss.xh": to_vaec(vh), "ploss.loss": loss.reshape(1),
                "ploss.gxh": to_vaec(gvh), "ploss.glogvar": glogvar.reshape(1),
                "ploss.lpips": net(frames, frames_h).reshape(b * t)})
    return out
