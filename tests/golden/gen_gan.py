"""Goldens for the adversarial training pieces (issue 20): op_batch_norm in training and eval mode (with the
running statistics it leaves), op_leaky_relu, the PatchGAN NLayerDiscriminator (forward and backward in
training mode, the running statistics it leaves, and eval mode), the GAN losses (generator hinge and
non-saturating, discriminator hinge, vanilla and non-saturating, LeCam), and one full generator +
discriminator step on the tiny pipeline of gen_pipeline.py (adaptive weight included), as
Open-Sora v1.2.0's scripts/train_vae.py computes it. Written from the upstream formulas; reference math in
float64, stored as float32, channels-last (weights in files keep PyTorch's layout, as checkpoints do)."""
import os

import torch
import torch.nn as nn
import torch.nn.functional as F
from diffusers import AutoencoderKL
from safetensors.torch import load_file

from golden_util import backward, randn, to_vaec, weight_to_vaec
from ref_temporal import Pipeline, TemporalVAE

here = os.path.dirname(os.path.abspath(__file__))


def patchgan(input_nc, ndf, n_layers):
    """The layer list of the PatchGAN discriminator (pix2pix / taming-transformers), as a Sequential so that
    the state_dict keys are main.<index>.*: 4x4 convs, stride 2 but the last two, BatchNorm2d after all
    convs but the first and the last, LeakyReLU(0.2)."""
    def ch(n):
        return ndf * min(2 ** n, 8)
    layers = [nn.Conv2d(input_nc, ndf, 4, 2, 1), nn.LeakyReLU(0.2)]
    for n in range(1, n_layers):
        layers += [nn.Conv2d(ch(n - 1), ch(n), 4, 2, 1, bias=False), nn.BatchNorm2d(ch(n)), nn.LeakyReLU(0.2)]
    layers += [nn.Conv2d(ch(n_layers - 1), ch(n_layers), 4, 1, 1, bias=False), nn.BatchNorm2d(ch(n_layers)),
               nn.LeakyReLU(0.2), nn.Conv2d(ch(n_layers), 1, 4, 1, 1)]
    m = nn.Module()
    m.main = nn.Sequential(*layers)
    return m


def fill_disc(d, gen):
    """random weights at PyTorch's default scale, BatchNorm affine near (1, 0), running stats off (0, 1)"""
    with torch.no_grad():
        for k, p in d.state_dict().items():
            if k.endswith("num_batches_tracked"):
                p.fill_(3)
            elif p.dim() == 4:
                p.copy_(torch.randn(p.shape, generator=gen) / (p[0].numel() ** 0.5))
            elif k.endswith("running_var"):
                p.copy_(1 + 0.5 * torch.rand(p.shape, generator=gen))
            elif k.endswith("running_mean"):
                p.copy_(0.2 * torch.randn(p.shape, generator=gen))
            elif k.endswith("weight"):
                p.copy_(1 + 0.1 * torch.randn(p.shape, generator=gen))
            else:
                p.copy_(0.1 * torch.randn(p.shape, generator=gen))


def state(out, prefix, d):
    for k, v in d.state_dict().items():
        out[prefix + k] = v.detach().clone()


def grads(out, prefix, d):
    for k, p in d.named_parameters():
        if p.grad is not None:
            out[prefix + k] = weight_to_vaec(p.grad) if p.grad.dim() == 4 else p.grad.clone()


def batch_norm_case(out, key, gen, shape, training):
    C = shape[1]
    x = (randn(*shape, gen=gen, scale=2.0).detach() + 0.7).requires_grad_(True)
    w = (1.0 + randn(C, gen=gen, scale=0.5).detach()).requires_grad_(True)
    b = randn(C, gen=gen, scale=0.5)
    rm = 0.3 * torch.randn(C, generator=gen, dtype=torch.float64)
    rv = 1 + torch.rand(C, generator=gen, dtype=torch.float64)
    out.update({f"{key}.rm": rm.clone(), f"{key}.rv": rv.clone()})
    y = F.batch_norm(x, rm, rv, w, b, training=training, momentum=0.1, eps=1e-5)   # moves rm, rv in training
    gy, (gx, gw, gb) = backward(y, [x, w, b], gen)
    out.update({f"{key}.x": to_vaec(x), f"{key}.w": w, f"{key}.b": b, f"{key}.y": to_vaec(y), f"{key}.gy": to_vaec(gy),
                f"{key}.gx": to_vaec(gx), f"{key}.gw": gw, f"{key}.gb": gb, f"{key}.rm_after": rm, f"{key}.rv_after": rv})


def loss_cases(out, gen):
    real = randn(2, 1, 3, 3, gen=gen, scale=1.5)
    fake = randn(2, 1, 3, 3, gen=gen, scale=1.5)
    out.update({"loss.real": to_vaec(real), "loss.fake": to_vaec(fake)})

    def sce(labels, logits):   # MAGVIT's sigmoid cross-entropy, as upstream's losses.py writes it
        return torch.clamp(logits, min=0) - logits * labels + torch.log1p(torch.exp(-logits.abs()))
    terms = {
        "gen_hinge": lambda: -fake.mean(),
        "gen_ns": lambda: sce(torch.ones_like(fake), fake).mean(),
        "disc_hinge": lambda: 0.5 * (F.relu(1 - real).mean() + F.relu(1 + fake).mean()),
        "disc_vanilla": lambda: 0.5 * (F.softplus(-real).mean() + F.softplus(fake).mean()),
        "disc_ns": lambda: 0.5 * (sce(torch.ones_like(real), real).mean() + sce(torch.zeros_like(fake), fake).mean()),
        "lecam": lambda: F.relu(real.mean() - (-0.2)) ** 2 + F.relu(0.3 - fake.mean()) ** 2,   # ema real 0.3, fake -0.2
    }
    for name, f in terms.items():
        v = f()
        gr, gf = torch.autograd.grad(v, [real, fake], allow_unused=True)
        out[f"loss.{name}"] = v.reshape(1)
        out[f"loss.{name}.gfake"] = to_vaec(gf)
        if gr is not None:
            out[f"loss.{name}.greal"] = to_vaec(gr)


def discriminator_cases(out, gen):
    d = patchgan(3, 4, 3).double()
    fill_disc(d, gen)
    state(out, "disc.", d)
    x = randn(2, 3, 32, 32, gen=gen)
    d.train()
    y = d.main(x)                               # (2,1,2,2); BatchNorms move their running statistics
    gy = torch.randn(y.shape, generator=gen, dtype=torch.float64)
    y.backward(gy)
    out.update({"disc_train.x": to_vaec(x), "disc_train.y": to_vaec(y), "disc_train.gy": to_vaec(gy),
                "disc_train.gx": to_vaec(x.grad)})
    grads(out, "disc_train.grad.", d)
    for k, v in d.state_dict().items():
        if "running" in k or "num_batches" in k:
            out["disc_train.after." + k] = v.clone()
    d2 = patchgan(3, 4, 3).double()              # eval: the stored running statistics normalise
    d2.load_state_dict({k[5:]: v for k, v in out.items() if k.startswith("disc.")})
    d2.eval()
    xe = randn(1, 3, 32, 32, gen=gen)
    ye = d2.main(xe)
    gye = torch.randn(ye.shape, generator=gen, dtype=torch.float64)
    ye.backward(gye)
    out.update({"disc_eval.x": to_vaec(xe), "disc_eval.y": to_vaec(ye), "disc_eval.gy": to_vaec(gye),
                "disc_eval.gx": to_vaec(xe.grad)})


def nll(x, xh, logvar):   # upstream weighted_nll, L1, SUM over C,H,W and MEAN over frames
    return ((x - xh).abs() / torch.exp(logvar) + logvar).sum() / (x.shape[0] * x.shape[2])


def frames(v):   # b c t h w -> (b t) c h w
    b, c, t, h, w = v.shape
    return v.permute(0, 2, 1, 3, 4).reshape(b * t, c, h, w)


def full_step(out, key, gen, gen_type, disc_type, lecam_weight, with_grads, reuse=None):
    """train_vae.py's step with a discriminator, on the tiny pipeline: spatial VAE frozen, use_real_rec_loss
    (L1 nll + 1e-6 KL, no LPIPS), posterior means; generator_factor 0.5, discriminator_factor 1,
    discriminator_start 0; then the discriminator's loss on the detached frames (LeCam with EMAs from 0).
    reuse: (x, discriminator state) of an earlier case, to keep the file small; returns the same pair."""
    spatial = AutoencoderKL(block_out_channels=(16, 16), layers_per_block=1, norm_num_groups=8, latent_channels=4,
                            down_block_types=("DownEncoderBlock2D",) * 2, up_block_types=("UpDecoderBlock2D",) * 2)
    pipe = Pipeline(spatial, TemporalVAE(filters=4, num_res_blocks=1, num_groups=2), micro_frame_size=17)
    pipe.load_state_dict(load_file(os.path.join(here, "pipeline_tiny_model.safetensors")))
    pipe = pipe.double()
    for p in pipe.spatial_vae.parameters():
        p.requires_grad_(False)
    d = patchgan(3, 4, 2).double()
    if reuse:
        x = reuse[0]
        d.load_state_dict(reuse[1])
    else:
        fill_disc(d, gen)
        with torch.no_grad():   # a fresh discriminator's buffers
            for k, v in d.state_dict().items():
                if "running_mean" in k or "num_batches" in k:
                    v.zero_()
                elif "running_var" in k:
                    v.fill_(1)
        state(out, f"{key}.disc.", d)
        x = torch.randint(0, 256, (1, 3, 5, 16, 16), generator=gen).to(torch.float64) / 127.5 - 1
        out[f"{key}.x"] = to_vaec(x)
    reused = (x, {k: v.clone() for k, v in d.state_dict().items()})
    d.train()
    logvar = torch.zeros(1, dtype=torch.float64)
    x_rec, x_z_rec, z, post, x_z = pipe(x)
    rec = nll(x, x_rec, logvar)
    kl = 1e-6 * post.kl().sum() / x.shape[0]
    fake_logits = d.main(frames(x_rec))
    if gen_type == "hinge":
        g = -fake_logits.mean()
    else:
        g = F.softplus(-fake_logits).mean()
    last = pipe.temporal_vae.decoder.conv_out.conv.weight
    g_nll = torch.autograd.grad(rec, last, retain_graph=True)[0]
    g_g = torch.autograd.grad(g, last, retain_graph=True)[0]
    d_weight = torch.clamp(g_nll.norm() / (g_g.norm() + 1e-4), 0.0, 1e4).detach() * 0.5
    adv = d_weight * 1.0 * g
    loss = rec + kl + adv
    params = [p for p in pipe.parameters() if p.requires_grad]
    names = [k for k, p in pipe.named_parameters() if p.requires_grad]
    pg = torch.autograd.grad(loss, params)
    out[f"{key}.terms"] = torch.stack([loss.detach(), rec.detach(), kl.detach(), adv.detach(), d_weight, g.detach()])
    if with_grads:
        for k, t in zip(names, pg):   # every gradient's norm (small), the last layer's gradient whole
            out[f"{key}.grad_norm.{k}"] = t.norm().reshape(1)
            if k.endswith("decoder.conv_out.conv.weight"):
                out[f"{key}.grad.{k}"] = weight_to_vaec(t)
    # the discriminator's step: two forwards of its own on detached frames
    for p in d.parameters():
        p.grad = None
    real_logits = d.main(frames(x).detach())
    fake_logits = d.main(frames(x_rec).detach())
    if disc_type == "hinge":
        dl = 0.5 * (F.relu(1 - real_logits).mean() + F.relu(1 + fake_logits).mean())
    else:
        dl = 0.5 * (F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean())
    ema_r = 0.001 * real_logits.mean().detach()   # decay 0.999 from 0, updated with this step's means first
    ema_f = 0.001 * fake_logits.mean().detach()
    lecam = F.relu(real_logits.mean() - ema_f) ** 2 + F.relu(ema_r - fake_logits.mean()) ** 2
    total = dl + lecam_weight * lecam
    total.backward()
    out[f"{key}.disc_terms"] = torch.stack([total.detach(), dl.detach(), (lecam_weight * lecam).detach(),
                                            real_logits.mean().detach(), fake_logits.mean().detach()])
    if with_grads:
        grads(out, f"{key}.disc_grad.", d)
        for k, v in d.state_dict().items():
            if "running" in k or "num_batches" in k:
                out[f"{key}.disc_after.{k}"] = v.clone()
    return reused


def generate():
    gen = torch.Generator().manual_seed(20)
    out = {}
    batch_norm_case(out, "bn_train", gen, (3, 5, 4, 6), True)
    batch_norm_case(out, "bn_eval", gen, (3, 5, 4, 6), False)
    batch_norm_case(out, "bn_train_odd", gen, (2, 7, 3, 5), True)
    x = randn(2, 3, 4, 5, gen=gen)
    y = F.leaky_relu(x, 0.2)
    gy, (gx,) = backward(y, [x], gen)
    out.update({"leaky.x": to_vaec(x), "leaky.y": to_vaec(y), "leaky.gy": to_vaec(gy), "leaky.gx": to_vaec(gx)})
    loss_cases(out, gen)
    discriminator_cases(out, gen)
    reused = full_step(out, "step", gen, "hinge", "hinge", 0.1, True)
    full_step(out, "step_ns", gen, "non-saturating", "vanilla", 0.0, False, reused)   # same x and discriminator
    return out
