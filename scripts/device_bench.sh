#!/usr/bin/env bash
# The hardware benchmark (scripts/hw_bench.py) on a machine that receives a copy of this
# repository without a Rust toolchain or the Vulkan loader (a lent GPU machine whose command
# writes its results under $OUT), in two steps:
#
#   bash scripts/device_bench.sh prepare   # here: .bin/gpu-dae (stripped release build) and
#                                          # .gl/ (the Vulkan and GL loader packages, amd64)
#   bash scripts/device_bench.sh run       # there, with .bin and .gl carried: unpacks the
#                                          # loaders, then hw_bench.py; results in $OUT
#
# `run` copies hw_bench.md, hw_bench.json and the log to $OUT (runs/hw-bench without it) as
# each section finishes, so a run stopped at a time limit still returns every finished table.
set -euo pipefail
cd "$(dirname "$0")/.."

case "${1:-}" in
prepare)
    cargo build --release
    mkdir -p .bin
    strip -o .bin/gpu-dae target/release/gpu-dae
    mkdir -p .gl /tmp/amd64/partial
    o=(-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64)
    apt-get "${o[@]}" update -qq
    (cd .gl && apt-get "${o[@]}" download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 \
        libglx0 libgles2)
    for ignored in /.bin/ /.gl/; do
        grep -qxF "$ignored" .git/info/exclude 2>/dev/null || echo "$ignored" >>.git/info/exclude
    done
    du -sh .bin .gl
    ;;
run)
    out="${OUT:-runs/hw-bench}"
    mkdir -p "$out"
    # The GPU and its driver first: wanted most when what follows fails.
    nvidia-smi --query-gpu=name,driver_version,clocks.max.sm,memory.total --format=csv \
        >"$out/nvidia-smi.csv" 2>&1 || true
    test -x .bin/gpu-dae || { echo "device_bench: .bin/gpu-dae is missing: run 'prepare' and carry .bin"; exit 1; }
    # Outputs are captured before grep reads them: under pipefail a writer cut off by grep -q
    # would fail the test.
    libs="$(ldconfig -p)"
    if ! grep -q libvulkan <<<"$libs"; then
        compgen -G '.gl/*.deb' >/dev/null || { echo "device_bench: no Vulkan loader here and no .gl/*.deb: run 'prepare' and carry .gl"; exit 1; }
        for f in .gl/*.deb; do dpkg -x "$f" /; done
        ldconfig
    fi
    adapters="$(.bin/gpu-dae devices 2>&1 || true)"
    if ! grep -qi nvidia <<<"$adapters"; then
        export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
        export __EGL_VENDOR_LIBRARY_FILENAMES=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
    fi
    .bin/gpu-dae devices >"$out/devices.txt" 2>&1 || true
    cat "$out/devices.txt"
    # hw_bench.py writes its tables into /tmp/hw-bench after each section (its train runs'
    # directories too, which stay there); a copier brings them to $OUT as they change. A
    # machine kept warm between calls may hold a previous run's: cleared first.
    rm -rf /tmp/hw-bench
    mkdir -p /tmp/hw-bench
    (while sleep 5; do cp /tmp/hw-bench/hw_bench.md /tmp/hw-bench/hw_bench.json "$out/" 2>/dev/null || true; done) &
    copier=$!
    status=0
    PYTHONUNBUFFERED=1 python3 scripts/hw_bench.py --gpu-dae .bin/gpu-dae --out /tmp/hw-bench \
        "${@:2}" 2>&1 | tee "$out/hw_bench.log" || status=$?
    kill "$copier" 2>/dev/null || true
    cp /tmp/hw-bench/hw_bench.md /tmp/hw-bench/hw_bench.json "$out/" 2>/dev/null || true
    exit "$status"
    ;;
*)
    echo "usage: bash scripts/device_bench.sh prepare|run [hw_bench.py options]" >&2
    exit 2
    ;;
esac
