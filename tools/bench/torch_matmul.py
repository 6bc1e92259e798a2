"""The PyTorch side of the GEMM comparison in tools/device-bench.sh (docs/benchmarks.md).

Usage: torch_matmul.py [--threads N] [--shapes MxNxK,...] [--reps 9] [--warmup 3]
Times y = x @ w.T in float32 on the CPU (x[M,K], w[N,K]: lora4j's Matmul.forward form) with
torch.set_num_threads(N) and prints one JSON line per shape: median and best GFLOP/s (2*M*N*K flops).
"""
import argparse
import json
import time

import torch


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--shapes", default="2048x2048x2048")
    ap.add_argument("--reps", type=int, default=9)
    ap.add_argument("--warmup", type=int, default=3)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    g = torch.Generator().manual_seed(42)
    for shape in args.shapes.split(","):
        m, n, k = (int(v) for v in shape.split("x"))
        x = torch.rand(m, k, generator=g) * 2 - 1
        w = torch.rand(n, k, generator=g) * 2 - 1
        y = torch.empty(m, n)
        flops = 2.0 * m * n * k
        calls = int(max(1, min(50, 4e9 / flops)))  # several calls per sample for small shapes, as MatmulGflops
        for _ in range(args.warmup):
            torch.matmul(x, w.t(), out=y)
        times = []
        for _ in range(args.reps):
            t0 = time.perf_counter()
            for _ in range(calls):
                torch.matmul(x, w.t(), out=y)
            times.append((time.perf_counter() - t0) / calls)
        times.sort()
        print(json.dumps({
            "side": "torch", "shape": shape, "form": "forward", "threads": torch.get_num_threads(),
            "median_gflops": round(flops / times[len(times) // 2] / 1e9, 1),
            "best_gflops": round(flops / times[0] / 1e9, 1), "torch": torch.__version__,
            "mkldnn": torch.backends.mkldnn.is_available(), "mkl": torch.backends.mkl.is_available()}), flush=True)


if __name__ == "__main__":
    main()
