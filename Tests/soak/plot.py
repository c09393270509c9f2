#!/usr/bin/env python3
"""Chart of a soak run: plot.py CSV [PNG]

Top: RSS, its anonymous part, VmHWM and malloc's bytes in use (MiB, left
axis) and the process count (right axis), with the least-squares line the
soak's rss_flat check fits to anonymous RSS over the last half of the load
phase. Bottom: messages per second (the runtime's messages_sent and
the soak processes' handler calls) and supervisor restarts per second.
The PNG goes next to the CSV unless a path is given. If the soak's RESULT
JSON sits beside the CSV (soak-<timestamp>.json, written by `make run`), its
verdict and figures go into the title.

matplotlib only. On Debian's system Python: apt-get install python3-matplotlib.
"""
import csv
import json
import os
import sys


def read(path):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        sys.exit("plot.py: %s has no samples" % path)
    return rows


def gaps(t):
    """(start, end) of the intervals between samples much longer than the
    usual one: the sampler got no CPU (the machine was short of it)."""
    if len(t) < 3:
        return []
    steps = sorted(t[i] - t[i - 1] for i in range(1, len(t)))
    usual = steps[len(steps) // 2]
    return [(t[i - 1], t[i]) for i in range(1, len(t)) if t[i] - t[i - 1] > 3 * usual]


def broken(t, y, spans):
    """The series with a NaN inside each gap, so the line breaks there."""
    nan = float("nan")
    xs, ys = [], []
    starts = {a for a, _ in spans}
    for x, v in zip(t, y):
        xs.append(x)
        ys.append(v)
        if x in starts:
            xs.append(x)
            ys.append(nan)
    return xs, ys


def rates(t, v):
    """Per-second rate between consecutive samples, placed at the later one."""
    return [(v[i] - v[i - 1]) / (t[i] - t[i - 1]) if t[i] > t[i - 1] else 0.0 for i in range(1, len(t))]


def windowed_rate(t, v, window):
    """Per-second rate over the last `window` seconds, at each sample (smooths
    counters that move in steps, like restarts)."""
    out, j = [], 0
    for i in range(1, len(t)):
        while t[i] - t[j] > window and j < i - 1:
            j += 1
        out.append((v[i] - v[j]) / (t[i] - t[j]) if t[i] > t[j] else 0.0)
    return out


def fit(t, y):
    """Least-squares slope and intercept (the same fit as soak.c's rss_slope)."""
    n = len(t)
    if n < 3:
        return None
    st, sy = sum(t), sum(y)
    stt = sum(x * x for x in t)
    sty = sum(a * b for a, b in zip(t, y))
    den = n * stt - st * st
    if den <= 0:
        return None
    slope = (n * sty - st * sy) / den
    return slope, (sy - slope * st) / n


def main(argv):
    if len(argv) not in (2, 3):
        sys.exit(__doc__.strip().splitlines()[0])
    path = argv[1]
    png = argv[2] if len(argv) == 3 else os.path.splitext(path)[0] + ".png"
    rows = read(path)
    load = [r for r in rows if r.get("phase", "load") == "load"]
    t = [float(r["t_s"]) for r in load]
    mib = lambda key: [int(r[key]) / 1024.0 for r in load]  # noqa: E731
    rss, hwm = mib("rss_kib"), mib("hwm_kib")
    anon = mib("anon_kib") if "anon_kib" in load[0] else None
    heap = mib("heap_kib") if "heap_kib" in load[0] else None
    procs = [int(r["processes"]) for r in load]
    sent = [int(r["messages_sent"]) for r in load]
    handled = [int(r["msgs_handled"]) for r in load]
    restarts = [int(r["restarts"]) for r in load]

    result = None
    jpath = os.path.splitext(path)[0] + ".json"
    if os.path.exists(jpath):
        try:
            with open(jpath) as f:
                result = json.load(f)
        except ValueError:
            result = None

    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as e:
        sys.exit("plot.py: matplotlib unavailable (%s); on Debian: apt-get install python3-matplotlib" % e)

    fig, (top, bottom) = plt.subplots(2, 1, figsize=(11, 7.5), sharex=True,
                                      gridspec_kw={"height_ratios": [3, 2]})
    spans = gaps(t)
    top.plot(*broken(t, rss, spans), color="tab:blue", linewidth=1.2, label="RSS")
    top.plot(*broken(t, hwm, spans), color="tab:blue", linewidth=0.8, linestyle=":", label="VmHWM")
    if anon:
        top.plot(*broken(t, anon, spans), color="tab:cyan", linewidth=1.2,
                 label="RSS, anonymous (resident - shared)")
    if heap:
        top.plot(*broken(t, heap, spans), color="tab:gray", linewidth=1.0, label="malloc in use (mallinfo2)")
    for k, (a, b) in enumerate(spans):
        for ax in (top, bottom):
            ax.axvspan(a, b, color="tab:red", alpha=0.08, linewidth=0,
                       label="no sample (the process got no CPU)" if k == 0 and ax is top else None)
    fitted = anon or rss
    half = t[-1] / 2.0 if t else 0.0
    tail = [(x, y) for x, y in zip(t, fitted) if x >= half]
    line = fit([x for x, _ in tail], [y for _, y in tail])
    if line:
        slope, icpt = line
        xs = [tail[0][0], tail[-1][0]]
        top.plot(xs, [icpt + slope * x for x in xs], color="black", linewidth=1.5, linestyle="--",
                 label="fit to %s, last half: %+.2f MiB / 10 min" % ("anonymous RSS" if anon else "RSS",
                                                                       slope * 600.0))
    top.set_ylabel("memory (MiB)")
    top.set_ylim(0, max(hwm + [1]) * 1.15)
    top.grid(alpha=0.3)
    right = top.twinx()
    right.plot(*broken(t, procs, spans), color="tab:orange", linewidth=0.8, label="processes")
    right.set_ylabel("processes alive", color="tab:orange")
    right.tick_params(axis="y", colors="tab:orange")
    right.set_ylim(0, max(procs + [1]) * 1.3)
    h1, l1 = top.get_legend_handles_labels()
    h2, l2 = right.get_legend_handles_labels()
    top.legend(h1 + h2, l1 + l2, loc="lower right", fontsize=7, ncol=2)

    rt = t[1:]
    # A rate over a gap is an average over time the process did not run: left out.
    inside = {i for i in range(1, len(t)) if (t[i - 1], t[i]) not in spans}
    sent_r, handled_r = rates(t, sent), rates(t, handled)
    nan = float("nan")
    sent_r = [sent_r[i - 1] if i in inside else nan for i in range(1, len(t))]
    handled_r = [handled_r[i - 1] if i in inside else nan for i in range(1, len(t))]
    bottom.plot(rt, [x / 1000.0 for x in sent_r], color="tab:green", linewidth=1,
                label="messages_sent (runtime)")
    bottom.plot(rt, [x / 1000.0 for x in handled_r], color="tab:purple", linewidth=0.8,
                alpha=0.8, label="handler calls (soak processes)")
    bottom.set_ylabel("thousand messages / s")
    bottom.set_xlabel("seconds since the load started")
    bottom.set_ylim(bottom=0)
    bottom.grid(alpha=0.3)
    r2 = bottom.twinx()
    r2.plot(*broken(rt, windowed_rate(t, restarts, 10.0), spans), color="tab:red", linewidth=0.8, alpha=0.8,
            label="restarts / s (10 s window)")
    r2.set_ylabel("restarts / s", color="tab:red")
    r2.tick_params(axis="y", colors="tab:red")
    r2.set_ylim(bottom=0)
    h1, l1 = bottom.get_legend_handles_labels()
    h2, l2 = r2.get_legend_handles_labels()
    bottom.legend(h1 + h2, l1 + l2, loc="lower right", fontsize=8)

    title = "Swerl soak: " + os.path.basename(path)
    if result:
        slope = result.get("rss_slope", {})
        failed = [c["name"] for c in result.get("checks", []) if c.get("ok") is False]
        title += "\n%s; %s schedulers; RSS slope (last half) %+.2f%% / 10 min (limit %.1f%%); " \
                 "longest sample gap %.0f s; load avg %s -> %s" % (
                     "PASS" if result.get("pass") else "FAIL: " + ", ".join(failed), result.get("schedulers"),
                     slope.get("last_half_pct_per_10min", 0.0), slope.get("limit_pct_per_10min", 0.0),
                     result.get("worst_sample_gap_s", 0.0),
                     result.get("loadavg_start", ["?"])[0], result.get("loadavg_end", ["?"])[0])
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(png, dpi=110)
    plt.close(fig)
    print(png)


if __name__ == "__main__":
    main(sys.argv)
