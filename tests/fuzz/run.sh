#!/usr/bin/env bash
# Builds the fuzz targets (cargo fuzz, libFuzzer, stable Rust, no sanitizer:
# the code is safe Rust, the fuzzers look for panics and broken properties)
# and runs each: first over its committed seeds and regressions, each of
# which must pass, then fuzzing for SECONDS (default 10) from the seeds and
# the corpus it grew before (target/fuzz/corpus), as many targets at a
# time as there are cores. A crash fails the run (no target starts after
# it); its input is in target/fuzz/artifacts/TARGET/ — copy it into
# tests/fuzz/regressions/TARGET/ once fixed.
#   tests/fuzz/run.sh [SECONDS] [TARGET...]
set -euo pipefail
seconds="${1:-10}"
shift || true
cd "$(dirname "$0")/../.."
fuzz_dir=tests/fuzz
out=target/fuzz
echo "==> building the fuzz targets (cargo fuzz build; $out)"
cargo fuzz build --fuzz-dir "$fuzz_dir" -s none --codegen-units 16 --target-dir "$out"
bin="$out/x86_64-unknown-linux-gnu/release"
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    mapfile -t targets < <(cargo fuzz list --fuzz-dir "$fuzz_dir")
fi
# One target: its seeds and regressions, then fuzzing; its summary line
# goes to $out/TARGET.summary.
fuzz_one() {
    local target=$1 dict=() replay runs corpus
    mkdir -p "$out/corpus/$target" "$out/artifacts/$target"
    case "$target" in
        host_patterns) dict=(-dict="$fuzz_dir/dicts/patterns.dict") ;;
        templates | json_bridge | webhook_ingress) dict=(-dict="$fuzz_dir/dicts/$target.dict") ;;
    esac
    replay=("$fuzz_dir/seeds/$target"/*)
    if [ -d "$fuzz_dir/regressions/$target" ]; then
        replay+=("$fuzz_dir/regressions/$target"/*)
    fi
    echo "==> $target: ${#replay[@]} seeds and regressions"
    "$bin/$target" -runs=1 "${replay[@]}" >"$out/$target.replay.log" 2>&1 || {
        cat "$out/$target.replay.log" >&2
        echo "$target: a seed or regression fails" >&2
        return 1
    }
    echo "==> $target: fuzzing for ${seconds}s"
    "$bin/$target" -max_total_time="$seconds" -timeout=20 -rss_limit_mb=4096 -print_final_stats=1 \
        -artifact_prefix="$out/artifacts/$target/" "${dict[@]}" \
        "$out/corpus/$target" "$fuzz_dir/seeds/$target" >"$out/$target.log" 2>&1 || {
        tail -60 "$out/$target.log" >&2
        echo "$target: crashed; the input is in $out/artifacts/$target/" >&2
        return 1
    }
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/$target.log" | tail -1)
    corpus=$(ls "$out/corpus/$target" | wc -l)
    echo "$target: ${runs:-?} runs in ${seconds}s, corpus $corpus, no crash" >"$out/$target.summary"
}

# libFuzzer runs one thread: as many targets at once as there are cores. A
# target that fails leaves $out/failed; no target starts after that.
parallel=$(nproc)
rm -f "$out/failed"
for target in "${targets[@]}"; do
    rm -f "$out/$target.summary"
    while [ "$(jobs -rp | wc -l)" -ge "$parallel" ]; do
        wait -n || true
    done
    [ ! -e "$out/failed" ] || break
    { fuzz_one "$target" || echo "$target" >>"$out/failed"; } &
done
wait
if [ -e "$out/failed" ]; then
    echo "fuzzing failed: $(tr '\n' ' ' <"$out/failed")(above: why)" >&2
    exit 1
fi
echo "==> fuzzing done"
for target in "${targets[@]}"; do
    printf '    %s\n' "$(cat "$out/$target.summary")"
done
