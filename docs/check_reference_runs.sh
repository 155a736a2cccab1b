#!/usr/bin/env bash
# Reruns the committed reference runs of docs/ on the CPU backend and compares each run's
# metrics.csv with the committed one, every column but the last (seconds). A refactor that
# keeps behaviour prints "identical" six times. The CPU's bits depend on the SIMD paths the
# processor offers (faer and the element-wise kernels dispatch at run time), so compare on the
# machine type the references were made on (README, "Speed").
#   bash docs/check_reference_runs.sh [OUT_DIR]      (about 5–10 minutes on 2 cores)
set -uo pipefail
cd "$(dirname "$0")/.."
out=${1:-$(mktemp -d)}
mkdir -p "$out" || exit 1
cargo build --release --quiet || exit 1
bin=target/release/gpu-dae
status=0
run() {
    local name=$1 reference=$2
    shift 2
    if ! "$bin" train --backend cpu "$@" --out "$out/$name" >"$out/$name.log" 2>&1; then
        echo "$name: the run failed, see $out/$name.log"
        status=1
    elif diff <(sed 's/,[^,]*$//' "$reference") <(sed 's/,[^,]*$//' "$out/$name/metrics.csv") \
        >"$out/$name.diff"; then
        echo "$name: identical"
    else
        echo "$name: DIFFERS from $reference, see $out/$name.diff"
        status=1
    fi
}
run da-corruption-0 docs/da/metrics_corruption_0.csv --corruption 0
run da-corruption-30 docs/da/metrics_corruption_30.csv --corruption 0.3
run da-salt-pepper docs/da-salt-pepper/metrics.csv --model da --noise salt-pepper:0.3
run cae docs/cae/metrics.csv --model cae
run relu-dae docs/relu-dae/metrics.csv --model relu-dae
run sda-fast docs/sda/metrics_fast.csv --model sda --preset fast
exit $status
