#!/usr/bin/env python3
"""Prints bench/run.sh's table from its JSON lines (stdlib only): one line per row with vaec's and
PyTorch's median ms, the ratio vaec/torch, both peaks, vaec's GFLOP/s and its share of the machine's
SGEMM rate (vaec's sgemm_2048 row, gemm_f32), and the 1-minute load average before the row ran. Where
run.sh also timed vaec on one thread (impl "vaec1"), a second table gives each row at 1 and N threads.
usage: table.py RESULTS.jsonl [--markdown]"""
import json
import sys


def print_table(head, rows, md):
    """rows of strings under head: a markdown table, or columns padded to their widest cell"""
    if md:
        print("| " + " | ".join(head) + " |")
        print("|" + "---|" * len(head))
        for r in rows:
            print("| " + " | ".join(r) + " |")
        return
    w = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(head)]
    print("  ".join(h.ljust(w[i]) for i, h in enumerate(head)))
    for r in rows:
        print("  ".join(c.ljust(w[i]) for i, c in enumerate(r)))


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    md = "--markdown" in sys.argv[2:]
    rows, order = {}, []
    for line in open(sys.argv[1]):
        line = line.strip()
        if not line.startswith("{"):
            continue
        r = json.loads(line)
        if r["row"] not in rows:
            rows[r["row"]] = {}
            order.append(r["row"])
        rows[r["row"]][r["impl"]] = r
    gemm = rows.get("sgemm_2048", {}).get("vaec", {})
    gemm_rate = 2 * 2048 ** 3 / (gemm["median_ms"] * 1e-3) / 1e9 if gemm.get("median_ms") else None
    head = ["row", "vaec ms", "torch ms", "vaec/torch", "vaec peak MiB (alloc/RSS)", "torch peak MiB", "GFLOP",
            "vaec GFLOP/s", "% SGEMM", "load", "loss vaec / torch"]
    out = []
    for name in order:
        v, t, ld = rows[name].get("vaec", {}), rows[name].get("torch", {}), rows[name].get("load", {})
        vm, tm = v.get("median_ms"), t.get("median_ms")
        flops = t.get("flops") or 0
        gf = flops / (vm * 1e-3) / 1e9 if vm and flops else None
        vpeak = f"{v['peak_alloc_mib']:.0f} / {v['peak_rss_mib']:.0f}" if vm else ""
        tpeak = t.get("peak_cuda_mib", t.get("peak_rss_mib"))
        loss = f"{v['loss']:.6g} / {t['loss']:.6g}" if vm and tm and (v.get("loss") or t.get("loss")) else ""
        out.append([name,
                    f"{vm:.1f}" if vm else v.get("error", "-"),
                    f"{tm:.1f}" if tm else t.get("error", "-"),
                    f"{vm / tm:.2f}x" if vm and tm else "-",
                    vpeak or "-",
                    f"{tpeak:.0f}" if tpeak else "-",
                    f"{flops / 1e9:.1f}" if flops else "-",
                    f"{gf:.1f}" if gf else "-",
                    f"{100 * gf / gemm_rate:.0f}%" if gf and gemm_rate else "-",
                    f"{ld['load1']:.1f}" if ld else "-",
                    loss or "-"])
    print_table(head, out, md)
    if gemm_rate:
        print(f"\nSGEMM 2048^3 (gemm_f32, vaec's threads): {gemm_rate:.1f} GFLOP/s")
    scaled = [n for n in order if rows[n].get("vaec1", {}).get("median_ms") and rows[n].get("vaec", {}).get("median_ms")]
    if scaled:
        nt = rows[scaled[0]]["vaec"].get("threads", "N")
        head2 = ["row", "1 thread ms", f"{nt} threads ms", "speed-up", "slower with more threads?"]
        out2 = []
        for n in scaled:
            one, many = rows[n]["vaec1"]["median_ms"], rows[n]["vaec"]["median_ms"]
            out2.append([n, f"{one:.1f}", f"{many:.1f}", f"{one / many:.2f}x", "YES" if many > one else "no"])
        print("\nscaling (vaec alone)")
        print_table(head2, out2, md)


if __name__ == "__main__":
    main()
