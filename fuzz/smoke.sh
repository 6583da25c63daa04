#!/usr/bin/env bash
# Runs every fuzz target briefly (CI smoke test): each starts from the committed seeds in
# fuzz/seeds/<target> (plus whatever fuzz/corpus/<target> has gathered locally) with the
# dictionary, for SECONDS_PER_TARGET seconds (default 20). Exits non-zero on the first crash.
# Needs cargo-fuzz (`cargo install cargo-fuzz`); on a stable toolchain RUSTC_BOOTSTRAP=1
# lets it pass the sanitizer flags.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${SECONDS_PER_TARGET:-20}"
targets=(parse roundtrip eval datefmt bind regex)
if [ -f fuzz/fuzz_targets/mappings.rs ]; then targets+=(mappings); fi
export RUSTC_BOOTSTRAP=1
cargo fuzz build
for t in "${targets[@]}"; do
    mkdir -p "fuzz/corpus/$t"
    seeds=()
    [ -d "fuzz/seeds/$t" ] && seeds=("fuzz/seeds/$t")
    echo "== $t (${seconds}s)"
    # Exported schemas are larger than expressions.
    max_len=4096
    [ "$t" = mappings ] && max_len=16384
    cargo fuzz run "$t" "fuzz/corpus/$t" "${seeds[@]}" -- \
        -max_total_time="$seconds" -dict=fuzz/mapexpr.dict -max_len="$max_len" -rss_limit_mb=4096 2>&1 \
        | grep -E '^(Done|==|INFO: seed corpus)|SUMMARY|panicked|ERROR' || true
    test "${PIPESTATUS[0]}" -eq 0
done
