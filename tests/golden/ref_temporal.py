"""vaec's own PyTorch reference of Open-Sora 1.2's temporal VAE (VAE_Temporal_SD) and of the
VideoAutoencoderPipeline, written from the reference description (shared docs, sections 1, 3, 4), not
from upstream code. Module and parameter names follow the upstream key names, so state dicts are
interchangeable with Open-Sora checkpoints. Used by gen_temporal.py and gen_pipeline.py."""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class CausalConv3d(nn.Module):
    """zero pad: time (k_t - 1) + (1 - stride_t) frames at the front only, H and W k//2 each side;
    then a Conv3d with padding 0 and stride (stride_t, 1, 1). The conv sits one level down (`.conv`)."""

    def __init__(self, cin, cout, k, stride_t=1, bias=True):
        super().__init__()
        self.time_pad = (k - 1) + (1 - stride_t)
        self.space_pad = k // 2
        self.conv = nn.Conv3d(cin, cout, k, stride=(stride_t, 1, 1), padding=0, bias=bias)

    def forward(self, x):
        p = self.space_pad
        return self.conv(F.pad(x, (p, p, p, p, self.time_pad, 0)))


class ResBlock(nn.Module):
    def __init__(self, cin, cout, groups):
        super().__init__()
        self.norm1 = nn.GroupNorm(groups, cin)
        self.conv1 = CausalConv3d(cin, cout, 3, bias=False)
        self.norm2 = nn.GroupNorm(groups, cout)
        self.conv2 = CausalConv3d(cout, cout, 3, bias=False)
        self.has_shortcut = cin != cout
        if self.has_shortcut:
            self.conv3 = CausalConv3d(cin, cout, 1, bias=False)

    def forward(self, x):
        h = self.conv1(F.silu(self.norm1(x)))
        h = self.conv2(F.silu(self.norm2(h)))
        return h + (self.conv3(x) if self.has_shortcut else x)


class Encoder(nn.Module):
    def __init__(self, cin, filters, n_res, mults, tdown, groups, out_ch):
        super().__init__()
        self.conv_in = CausalConv3d(cin, filters, 3, bias=False)
        self.block_res_blocks = nn.ModuleList()
        self.conv_blocks = nn.ModuleList()
        prev = filters
        for i, m in enumerate(mults):
            f = filters * m
            self.block_res_blocks.append(nn.ModuleList([ResBlock(prev if j == 0 else f, f, groups) for j in range(n_res)]))
            prev = f
            if i < len(mults) - 1:
                self.conv_blocks.append(CausalConv3d(f, f, 3, stride_t=2) if tdown[i] else nn.Identity())
        self.res_blocks = nn.ModuleList([ResBlock(prev, prev, groups) for _ in range(n_res)])
        self.norm1 = nn.GroupNorm(groups, prev)
        self.conv2 = CausalConv3d(prev, out_ch, 1)

    def forward(self, x):
        x = self.conv_in(x)
        for i, blocks in enumerate(self.block_res_blocks):
            for b in blocks:
                x = b(x)
            if i < len(self.block_res_blocks) - 1:
                x = self.conv_blocks[i](x)
        for b in self.res_blocks:
            x = b(x)
        return self.conv2(F.silu(self.norm1(x)))


def depth_to_time(x, ts):
    """B (C ts) T H W -> B C (T ts) H W"""
    b, c, t, h, w = x.shape
    return x.reshape(b, c // ts, ts, t, h, w).permute(0, 1, 3, 2, 4, 5).reshape(b, c // ts, t * ts, h, w)


class Decoder(nn.Module):
    def __init__(self, zc, filters, n_res, mults, tdown, groups, out_ch):
        super().__init__()
        top = filters * mults[-1]
        self.tdown = tdown
        self.conv1 = CausalConv3d(zc, top, 3)
        self.res_blocks = nn.ModuleList([ResBlock(top, top, groups) for _ in range(n_res)])
        n = len(mults)
        blocks, convs = [None] * n, [None] * (n - 1)
        prev = top
        for i in reversed(range(n)):
            f = filters * mults[i]
            blocks[i] = nn.ModuleList([ResBlock(prev if j == 0 else f, f, groups) for j in range(n_res)])
            prev = f
            if i > 0:
                convs[i - 1] = CausalConv3d(f, 2 * f, 3) if tdown[i - 1] else nn.Identity()
        self.block_res_blocks = nn.ModuleList(blocks)
        self.conv_blocks = nn.ModuleList(convs)
        self.norm1 = nn.GroupNorm(groups, prev)
        self.conv_out = CausalConv3d(prev, out_ch, 3)

    def forward(self, x):
        x = self.conv1(x)
        for b in self.res_blocks:
            x = b(x)
        for i in reversed(range(len(self.block_res_blocks))):
            for b in self.block_res_blocks[i]:
                x = b(x)
            if i > 0 and self.tdown[i - 1]:
                x = depth_to_time(self.conv_blocks[i - 1](x), 2)
        return self.conv_out(F.silu(self.norm1(x)))


class Posterior:
    def __init__(self, moments):
        self.mean, logvar = torch.chunk(moments, 2, dim=1)
        self.logvar = torch.clamp(logvar, -30.0, 20.0)
        self.std = torch.exp(0.5 * self.logvar)

    def sample(self, eps):
        return self.mean + self.std * eps

    def kl(self):
        return 0.5 * torch.sum(self.mean ** 2 + torch.exp(self.logvar) - 1.0 - self.logvar, dim=list(range(1, self.mean.dim())))


class TemporalVAE(nn.Module):
    def __init__(self, in_out_channels=4, latent_embed_dim=4, embed_dim=4, filters=128, num_res_blocks=4,
                 channel_multipliers=(1, 2, 2, 4), temporal_downsample=(False, True, True), num_groups=32):
        super().__init__()
        self.factor = 2 ** sum(bool(t) for t in temporal_downsample)
        self.encoder = Encoder(in_out_channels, filters, num_res_blocks, channel_multipliers, temporal_downsample,
                               num_groups, 2 * latent_embed_dim)
        self.quant_conv = CausalConv3d(2 * latent_embed_dim, 2 * embed_dim, 1)
        self.post_quant_conv = CausalConv3d(embed_dim, latent_embed_dim, 1)
        self.decoder = Decoder(latent_embed_dim, filters, num_res_blocks, channel_multipliers, temporal_downsample,
                               num_groups, in_out_channels)

    def pad_of(self, t):
        return (self.factor - t % self.factor) % self.factor

    def encode(self, x):
        x = F.pad(x, (0, 0, 0, 0, self.pad_of(x.shape[2]), 0))
        return Posterior(self.quant_conv(self.encoder(x)))

    def decode(self, z, num_frames):
        x = self.decoder(self.post_quant_conv(z))
        return x[:, :, self.pad_of(num_frames):]

    def latent_t(self, t):
        return math.ceil(t / self.factor)


class Pipeline(nn.Module):
    """VideoAutoencoderPipeline with cal_loss: spatial (diffusers AutoencoderKL, per frame) then temporal.
    sample_posterior False: both VAEs use their posterior mean. The posterior returned covers all chunks."""

    def __init__(self, spatial, temporal, micro_frame_size, scaling_factor=0.18215):
        super().__init__()
        self.spatial_vae = nn.Module()
        self.spatial_vae.module = spatial
        self.temporal_vae = temporal
        self.mfs = micro_frame_size
        self.sf = scaling_factor

    def encode(self, x):
        b, c, t, h, w = x.shape
        frames = x.permute(0, 2, 1, 3, 4).reshape(b * t, c, h, w)
        s = self.spatial_vae.module
        mean = torch.chunk(s.quant_conv(s.encoder(frames)), 2, dim=1)[0] * self.sf
        x_z = mean.reshape(b, t, *mean.shape[1:]).permute(0, 2, 1, 3, 4)
        moments = []
        for i in range(0, t, self.mfs):
            chunk = x_z[:, :, i:i + self.mfs]
            chunk = F.pad(chunk, (0, 0, 0, 0, self.temporal_vae.pad_of(chunk.shape[2]), 0))
            moments.append(self.temporal_vae.quant_conv(self.temporal_vae.encoder(chunk)))
        post = Posterior(torch.cat(moments, dim=2))
        return post.mean, post, x_z

    def decode(self, z, num_frames):
        mz = self.temporal_vae.latent_t(self.mfs)
        parts = []
        for i in range(0, z.shape[2], mz):
            parts.append(self.temporal_vae.decode(z[:, :, i:i + mz], min(self.mfs, num_frames)))
            num_frames -= self.mfs
        x_z_rec = torch.cat(parts, dim=2)
        b, c, t, h, w = x_z_rec.shape
        s = self.spatial_vae.module
        frames = x_z_rec.permute(0, 2, 1, 3, 4).reshape(b * t, c, h, w) / self.sf
        x = s.decoder(s.post_quant_conv(frames))
        return x.reshape(b, t, *x.shape[1:]).permute(0, 2, 1, 3, 4), x_z_rec

    def forward(self, x):
        z, post, x_z = self.encode(x)
        x_rec, x_z_rec = self.decode(z, x_z.shape[2])
        return x_rec, x_z_rec, z, post, x_z
