#!/usr/bin/env bash
# Installs the Debian packages vaec's build and tests need. Idempotent: when every package is
# already present it runs no apt command at all, so `make test` stays fast on a warm machine.
set -euo pipefail
pkgs=(build-essential cmake pkg-config
      libopenblas-openmp-dev   # cblas GEMM on vaec's own OpenMP threads
      libdnnl-dev              # oneDNN: CPU convolutions and matmuls (AVX2 / AVX-512 / AMX at run time)
      libhdf5-dev              # datasets (data/)
      libopenmpi-dev openmpi-bin  # data-parallel training on CPU ranks, process launch
      libpng-dev zlib1g-dev    # PNG frames, reconstruction previews
      libjpeg-dev              # JPEG frames (libjpeg-turbo)
      libavformat-dev libavcodec-dev libswscale-dev libavutil-dev  # `vaec data make --videos`
      ffmpeg)                  # the command line: the video import tests encode their input with it
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then exit 0; fi
echo "install-deps: installing ${missing[*]}"
sudo_cmd=""
[ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo_cmd apt-get update -qq
$sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
