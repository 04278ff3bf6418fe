#!/usr/bin/env python3
"""Draws the README's proving-time plot from `glassbox bench --json` output (no dependencies).

    cargo run --release -p glassbox-cli -- bench --batches 1,8,64,256 --json > bench.json
    python3 scripts/plot_bench.py bench.json docs/bench.svg
"""
import json
import math
import sys


def main(src: str, dst: str) -> None:
    data = json.load(open(src))
    rows = data["rows"] if isinstance(data, dict) else data
    models = sorted({r["model"] for r in rows})
    batches = sorted({r["batch"] for r in rows})
    w, h, left, bottom, top, right = 640, 360, 70, 50, 30, 170
    ymax = max(r["prove_ms"] for r in rows) * 1.15
    colors = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd"]

    def x(b):
        span = math.log2(max(batches)) - math.log2(min(batches)) or 1
        return left + (w - left - right) * (math.log2(b) - math.log2(min(batches))) / span

    def y(v):
        return h - bottom - (h - bottom - top) * v / ymax

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" font-size="12">',
           f'<rect width="{w}" height="{h}" fill="white"/>',
           f'<text x="{left}" y="18" font-size="14">glassbox: prove time vs batch, ms (bundles summed)</text>',
           f'<line x1="{left}" y1="{h-bottom}" x2="{w-right}" y2="{h-bottom}" stroke="black"/>',
           f'<line x1="{left}" y1="{top}" x2="{left}" y2="{h-bottom}" stroke="black"/>']
    for b in batches:
        out.append(f'<text x="{x(b):.1f}" y="{h-bottom+18}" text-anchor="middle">{b}</text>')
    out.append(f'<text x="{(left + w - right) / 2:.1f}" y="{h-12}" text-anchor="middle">batch (samples)</text>')
    for i in range(5):
        v = ymax * i / 4
        out.append(f'<text x="{left-6}" y="{y(v)+4:.1f}" text-anchor="end">{v:.0f}</text>')
        out.append(f'<line x1="{left}" y1="{y(v):.1f}" x2="{w-right}" y2="{y(v):.1f}" stroke="#ddd"/>')
    for i, m in enumerate(models):
        pts = sorted((r["batch"], r["prove_ms"]) for r in rows if r["model"] == m)
        c = colors[i % len(colors)]
        path = " ".join(f"{x(b):.1f},{y(v):.1f}" for b, v in pts)
        out.append(f'<polyline points="{path}" fill="none" stroke="{c}" stroke-width="2"/>')
        for b, v in pts:
            out.append(f'<circle cx="{x(b):.1f}" cy="{y(v):.1f}" r="3" fill="{c}"/>')
        out.append(f'<text x="{w-right+10}" y="{top+20+18*i}" fill="{c}">{m}</text>')
    out.append("</svg>")
    open(dst, "w").write("\n".join(out) + "\n")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
