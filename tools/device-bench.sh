#!/usr/bin/env bash
# lora4j against PyTorch (+ PEFT) on a host without a JDK or Maven: the 16-core Intel check of
# issue 12 (docs/benchmarks.md, "Many cores"). Everything it needs sits in one folder made by
# tools/device-pack.sh: a jlinked Java 25 runtime (jdk/), lora4j's jars (lib/), this script and the
# Python benchmark files. The host needs python3 with torch, transformers and peft.
#
# Usage: DIR/device-bench.sh OUT_DIR [THREADS...]      (default threads: 1 4 16)
#   Writes OUT_DIR/env.txt (lscpu, versions), OUT_DIR/gemm.jsonl (F32 GEMM 2048³ and the training
#   step's shapes, lora4j and torch.matmul per thread count), OUT_DIR/sweep.jsonl (tiles and
#   block sizes on one thread, with the packing/compute split), OUT_DIR/train.jsonl (LoRA training step:
#   hidden 512, 8 layers, 4x256 tokens, r=8 on q,v; lora4j and PEFT per thread count) and
#   OUT_DIR/summary.md (the tables). BENCH_QUICK=1 runs fewer repetitions (for a dry run).
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${1:?usage: device-bench.sh OUT_DIR [THREADS...]}"
shift
threads=("$@")
[[ ${#threads[@]} -eq 0 ]] && threads=(1 4 16)
mkdir -p "$out"
java="$here/jdk/bin/java"
py="${PY:-python3}"
cp="$here/lib/*"
jit="-XX:CompileCommand=quiet -XX:CompileCommand=inline,dev.lora4j.kernels.VecMath::* -XX:CompileCommand=inline,dev.lora4j.kernels.Erf::* -XX:CompileCommand=inline,dev.lora4j.kernels.Vec::*"
jvm=(--add-modules jdk.incubator.vector $jit)
if [[ -n "${BENCH_QUICK:-}" ]]; then g_reps=3 g_warm=1 t_warm=1 t_reps=2; else g_reps=7 g_warm=3 t_warm=2 t_reps=3; fi
export PYTHONUNBUFFERED=1

{
  date -u; echo; lscpu; echo; nproc
  "$java" -version 2>&1
  "$py" -c 'import sys, torch; print("python", sys.version.split()[0], "torch", torch.__version__, "threads", torch.get_num_threads()); print(torch.__config__.parallel_info()); print(torch.__config__.show())'
  "$py" -c 'import transformers, peft; print("transformers", transformers.__version__, "peft", peft.__version__)'
  "$java" "${jvm[@]}" -cp "$cp" -Dlora4j.threads=1 -XshowSettings:properties -version 2>&1 | grep -E 'java.vm.version|os.arch'
} > "$out/env.txt" 2>&1
echo "env done" >&2

# 1. F32 GEMM (forward form y = x·Wᵀ): 2048³, then the training step's frozen products (4x256 tokens
#    x hidden 512 into q/k/v/o, the MLP's 1376, the 8192-word head); lora4j with its default tile,
#    then torch, per thread count.
shapes=2048x2048x2048,1024x512x512,1024x1376x512,1024x512x1376,1024x8192x512
for t in "${threads[@]}"; do
  "$java" "${jvm[@]}" -Xmx2g -Dlora4j.threads="$t" -cp "$cp" dev.lora4j.bench.MatmulGflops \
    --shapes "$shapes" --forms forward --reps "$g_reps" --warmup "$g_warm" 2>/dev/null >> "$out/gemm.jsonl"
  "$py" "$here/torch_matmul.py" --threads "$t" --shapes "$shapes" --reps "$g_reps" --warmup "$g_warm" >> "$out/gemm.jsonl"
  echo "gemm $t threads done" >&2
done
# Block sizes and tiles on this core, with the time split between packing and computing
# (-Dlora4j.gemm.profile). Neither tile, MC, NC nor the loop order changes results; KC=256 does (a
# diagnostic only). BENCH_SWEEP=0 skips this part, BENCH_SWEEP=full runs the first, wide sweep.
if [[ "${BENCH_SWEEP:-1}" != 0 ]]; then
  sweep() {  # threads, then JVM options
    local t="$1"; shift
    "$java" "${jvm[@]}" -Xmx2g -Dlora4j.threads="$t" -Dlora4j.gemm.profile=true "$@" -cp "$cp" dev.lora4j.bench.MatmulGflops \
      --shapes 2048x2048x2048,1024x512x512 --forms forward --reps "$g_reps" --warmup "$g_warm" 2>>"$out/sweep.err" \
      | sed "s/^{/{\"options\": \"$*\", /" >> "$out/sweep.jsonl"
  }
  if [[ "${BENCH_SWEEP:-1}" == full ]]; then  # the first sweep on the Xeon (docs/benchmarks.md)
    sweep 1
    # When does C2 (re)compile the tiles? (C1 gives up on the 24-accumulator tile.)
    "$java" "${jvm[@]}" -Xmx2g -Dlora4j.threads=1 -XX:+PrintCompilation -cp "$cp" dev.lora4j.bench.MatmulGflops \
      --shapes 2048x2048x2048 --forms forward --reps "$g_reps" --warmup "$g_warm" 2>&1 | grep -E 'Tiles::|^\{' >> "$out/sweep.err"
    for o in -Dlora4j.gemm.tile=6x2 -Dlora4j.gemm.tile=8x3 -Dlora4j.gemm.mc=96 -Dlora4j.gemm.mc=384 -Dlora4j.gemm.nc=512 \
        "-Dlora4j.gemm.loop=apanel -Dlora4j.gemm.nc=512" "-Dlora4j.gemm.loop=apanel -Dlora4j.gemm.nc=256" \
        "-Dlora4j.gemm.tile=6x2 -Dlora4j.gemm.loop=apanel -Dlora4j.gemm.nc=256" -Dlora4j.gemm.kc=256 \
        "-Dlora4j.gemm.tile=6x2 -Dlora4j.gemm.kc=256" -XX:+UseTransparentHugePages \
        "-Dlora4j.gemm.tile=calibrate -Dlora4j.gemm.verbose=true"; do
      sweep 1 $o
    done
    sweep 16 -Dlora4j.gemm.tile=6x2
    sweep 16 -XX:+UseTransparentHugePages
    sweep 16 -Dlora4j.gemm.loop=apanel -Dlora4j.gemm.nc=512
  else  # the block size chosen from L2 against the old 192 rows, and what still helps 16 threads
    sweep 1
    sweep 1 -Dlora4j.gemm.mc=192
    sweep 16
    sweep 16 -Dlora4j.gemm.mc=192
    sweep 16 -XX:+UseTransparentHugePages
    sweep 16 -Dlora4j.gemm.loop=apanel -Dlora4j.gemm.nc=512
  fi
  echo "sweep done" >&2
fi

# 2. LoRA training step, F32 checkpoint written by transformers from a fixed seed.
model="${TMPDIR:-/tmp}/lora4j-bench-model-f32"
"$py" "$here/make_bench_model.py" "$model" --dtype float32 > /dev/null 2>&1 || echo "make_bench_model failed" >&2
for t in "${threads[@]}"; do
  # -Xmx352m (tools/bench-train's heap) ran out of memory on the 16-core Xeon, at every thread count.
  "$java" "${jvm[@]}" ${LORA4J_BENCH_JVM_OPTS:--XX:+UseParallelGC -Xmx1g} -Dlora4j.threads="$t" -cp "$cp" dev.lora4j.bench.LoraTrainStep \
    "$model" --warmup "$t_warm" --reps "$t_reps" 2>>"$out/train.err" >> "$out/train.jsonl"
  "$py" "$here/peft_train_step.py" "$model" --threads "$t" --warmup "$t_warm" --reps "$t_reps" 2>/dev/null >> "$out/train.jsonl"
  echo "train $t threads done" >&2
done
rm -rf "$model"

"$py" - "$out" > "$out/summary.md" <<'PYEOF'
import json, sys, os
out = sys.argv[1]
def rows(name):
    p = os.path.join(out, name)
    return [json.loads(l) for l in open(p) if l.strip().startswith("{")] if os.path.exists(p) else []
g = rows("gemm.jsonl")
print("| M×N×K | threads | lora4j GFLOP/s | PyTorch GFLOP/s | lora4j / PyTorch |\n|---|---:|---:|---:|---:|")
for shape in dict.fromkeys(r["shape"] for r in g):
    for t in sorted({r["threads"] for r in g}):
        l = [r for r in g if r["threads"] == t and r["side"] == "lora4j" and r["shape"] == shape]
        p = [r for r in g if r["threads"] == t and r["side"] == "torch" and r["shape"] == shape]
        if l and p:
            print(f"| {shape} | {t} | {l[0]['median_gflops']:.1f} | {p[0]['median_gflops']:.1f} | {l[0]['median_gflops'] / p[0]['median_gflops']:.2f}x |")
print("\n| threads | options | M×N×K | tile | GFLOP/s | pack / compute s |\n|---:|---|---|---|---:|---|")
for r in rows("sweep.jsonl"):
    print(f"| {r['threads']} | {r['options'] or 'defaults'} | {r['shape']} | {r['tile']} | {r['median_gflops']:.1f} | {r['profile']} |")
tr = rows("train.jsonl")
print("\n| threads | lora4j step s | PEFT step s | lora4j / PEFT |\n|---:|---:|---:|---:|")
for t in sorted({r["threads"] for r in tr}):
    l = [r for r in tr if r["threads"] == t and r["side"] == "lora4j"]
    p = [r for r in tr if r["threads"] == t and r["side"] == "peft"]
    if l and p:
        print(f"| {t} | {l[0]['median_s']:.3f} | {p[0]['median_s']:.3f} | {l[0]['median_s'] / p[0]['median_s']:.2f}x |")
PYEOF
cat "$out/summary.md"
