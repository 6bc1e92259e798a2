"""Summarizes tools/bench-train's JSON lines as the markdown table of docs/benchmarks.md.

Per weight dtype and side: the median over every timed step of every round (each round is a fresh
process), and the largest peak RSS seen. Ratios are lora4j / PEFT (below 1 means lora4j is better).
"""
import json
import statistics
import sys


def main():
    rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip().startswith("{")]
    print("| base weights | lora4j step (median) | PEFT step (median) | time ratio | lora4j peak RSS | PEFT peak RSS | memory ratio |")
    print("|---|---|---|---|---|---|---|")
    for dt in ("f32", "bf16"):
        side = {}
        for s in ("lora4j", "peft"):
            rs = [r for r in rows if r["weights"] == dt and r["side"] == s]
            if rs:
                times = [t for r in rs for t in r["times_s"]]
                side[s] = (statistics.median(times), max(r["peak_rss_mib"] for r in rs), len(rs))
        if len(side) < 2:
            continue
        (lt, lm, n), (pt, pm, _) = side["lora4j"], side["peft"]
        print(f"| {dt.upper()} | {lt:.2f} s | {pt:.2f} s | {lt / pt:.2f}x | {lm:.0f} MiB | {pm:.0f} MiB | {lm / pm:.2f}x |")
    losses = {(r["weights"], r["side"]): r["last_loss"] for r in rows}
    print()
    print("last-step loss (same data and initial adapter on both sides): "
          + ", ".join(f"{k[0]} {k[1]} {v:.5f}" for k, v in sorted(losses.items())))


if __name__ == "__main__":
    main()
