#!/usr/bin/env python3
"""Turns the raw data of bench/run.sh (a directory) into bench/RESULTS.md (stdout)."""

import json
import os
import statistics
import sys

out = sys.argv[1]


def tsv(name):
    path = os.path.join(out, name)
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [line.rstrip("\n").split("\t") for line in f if line.strip()]


machine = dict(tsv("machine.tsv"))
targets = []  # (target, figure, met)
lines = []
p = lines.append

p("# Benchmark results")
p("")
p(f"Measured {machine['date']} on {machine['cpu']}, {machine['nproc']} CPUs, "
  f"Linux {machine['kernel']}; {machine['rustc']}, {machine['valgrind']}; "
  f"load average at the start {machine['load']}; commit {machine['commit']}. "
  f"The whole of `bash bench/run.sh` took {machine['total']} s.")
p("")

# --- 1. instruction counts ----------------------------------------------------
counts = {}
for case, full, zero, n in tsv("icount.tsv"):
    counts[case] = (int(full) - int(zero)) / int(n)
empty = counts.pop("empty/none")
per_call = {k: v - empty for k, v in counts.items()}

PEERS = ["syscalls", "rawmap", "rustix", "libc", "memmap2"]
ROWS = [
    ("raw `mmap` (1 page, anon, RW, private) + touch + `munmap`", "mmap_touch_munmap"),
    ("raw `msync(MS_ASYNC)` on a dirty 1-page shared file mapping (+ the store)", "msync_async"),
    ("safe `MmapOptions::new().len(page).map_anon()` + touch + drop", "safe_map_anon_drop"),
    ("safe `MmapMut::flush_async()` (+ the store)", "safe_flush_async"),
    ("`page_size()` after the first call (libc: `sysconf`)", "page_size"),
]
# The raw calls since Linux 4.4 (valgrind 3.19 answers ENOSYS to mlock2, mseal
# and process_madvise, ENOSPC to pkey_alloc: those rows count the wrapper's
# error path, which is what the kernel's answer costs in user space).
MODERN_ROWS = [
    ("raw `mlock2(MLOCK_ONFAULT)` of 1 page", "mlock2_onfault"),
    ("raw `mlockall(MCL_FUTURE | MCL_ONFAULT)` + `munlockall()`", "mlockall_munlockall"),
    ("raw `mseal` of an empty range", "mseal_empty"),
    ("raw `process_madvise(MADV_COLD)`, 1 iovec, own pidfd", "process_madvise_cold"),
    ("raw `pkey_alloc` (+ `pkey_free` if a key came)", "pkey_alloc_free"),
    ("raw `pkey_mprotect(RW, -1)` of 1 page", "pkey_mprotect"),
]
ROWS += MODERN_ROWS


def ic(group, peer):
    v = per_call.get(f"{group}/{peer}")
    return None if v is None else v


def fmt_ic(v):
    return "–" if v is None else f"{v:g}"


p("## Instructions per call (callgrind)")
p("")
p("User-space instructions per call on x86_64 (`x86_64-unknown-linux-gnu`, release "
  "profile: the benchmark crate calls each library as any dependent crate would), "
  "counted by callgrind "
  "(`--toggle-collect` on the measuring loop, "
  f"{n} calls minus 0 calls, minus the loop and call overhead of an empty case, "
  f"{empty:g} instructions). The syscall instruction counts as one; the kernel's "
  "work is not counted. Safe-layer rows: rawmap's `MmapOptions`/`MmapMut` "
  "in the rawmap column, memmap2's in the memmap2 column.")
p("")
p("| case | " + " | ".join(PEERS) + " |")
p("| --- |" + " ---: |" * len(PEERS))
for label, group in ROWS:
    p(f"| {label} | " + " | ".join(fmt_ic(ic(group, peer)) for peer in PEERS) + " |")
p("")

raw_floor = ic("mmap_touch_munmap", "syscalls")
for group, name in [("mmap_touch_munmap", "mmap+munmap"), ("msync_async", "msync")]:
    r, f = ic(group, "rawmap"), ic(group, "syscalls")
    targets.append((f"raw {name} within 2 instructions of the `syscalls` floor",
                    f"rawmap {r:g}, floor {f:g}", r - f <= 2))
for name, group in MODERN_ROWS:
    r, f = ic(group, "rawmap"), ic(group, "syscalls")
    if r is not None and f is not None:
        targets.append((f"{name} within 2 instructions of the `syscalls` floor",
                        f"rawmap {r:g}, floor {f:g}", r - f <= 2))
safe, glibc = ic("safe_map_anon_drop", "rawmap"), ic("mmap_touch_munmap", "libc")
targets.append(("safe `map_anon` + drop at or below glibc's raw `mmap` + `munmap`",
                f"rawmap safe {safe:g}, glibc raw {glibc:g}, memmap2 "
                f"{ic('safe_map_anon_drop', 'memmap2'):g}", safe <= glibc))
fl, glibc_ms = ic("safe_flush_async", "rawmap"), ic("msync_async", "libc")
targets.append(("safe `flush_async` at or below glibc's raw `msync`",
                f"rawmap safe {fl:g}, glibc raw {glibc_ms:g}, memmap2 "
                f"{ic('safe_flush_async', 'memmap2'):g}", fl <= glibc_ms))

# --- 2. wall times ---------------------------------------------------------------
bench = {}  # (group, param) -> peer -> (median ns, lo, hi)
cdir = os.path.join(out, "criterion")
for dirpath, _, files in os.walk(cdir):
    if os.path.basename(dirpath) != "new" or "benchmark.json" not in files:
        continue
    with open(os.path.join(dirpath, "benchmark.json")) as f:
        meta = json.load(f)
    with open(os.path.join(dirpath, "estimates.json")) as f:
        est = json.load(f)["median"]
    ci = est["confidence_interval"]
    key = (meta["group_id"], meta.get("value_str") or "")
    bench.setdefault(key, {})[meta["function_id"]] = (
        est["point_estimate"], ci["lower_bound"], ci["upper_bound"])

WALL_PEERS = ["syscalls", "rawmap", "rustix", "rawmap_safe", "memmap2"]
GROUP_LABEL = {
    "map_touch_all": "map + touch every page + unmap, {} page(s)",
    "map_touch_first": "map + touch first byte + unmap, {} pages",
    "msync_async": "`msync(MS_ASYNC)` on a dirty page",
    "page_size": "`page_size()` after the first call",
}
ORDER = ["map_touch_all", "map_touch_first", "msync_async", "page_size"]


def human(ns):
    if ns >= 1e6:
        return f"{ns / 1e6:.2f} ms"
    if ns >= 1e3:
        return f"{ns / 1e3:.2f} µs"
    return f"{ns:.1f} ns"


p("## Wall time, as ratios to libc (criterion)")
p("")
p("On a shared machine the drift between one benchmark and the next is larger "
  "than criterion's confidence intervals, which only cover the noise within a "
  "benchmark; the interleaved rounds below are the check on this table.")
p("")
p("Medians from one `cargo bench -p rawmap-bench` run, each peer divided by libc's "
  "median from the same run (below 1 is faster). `rawmap_safe` and `memmap2` are "
  "the safe layers (`map_anon` + drop, `flush_async`). In brackets: the ratio's "
  "range from the two medians' 95% confidence intervals; a ratio above 1 whose "
  "range stays above 1 is slower than libc beyond noise (marked **bold**).")
p("")
p("| case | libc | " + " | ".join(WALL_PEERS) + " |")
p("| --- | ---: |" + " ---: |" * len(WALL_PEERS))
slower = []
for group in ORDER:
    keys = sorted((k for k in bench if k[0] == group), key=lambda k: int(k[1] or 0))
    for key in keys:
        row = bench[key]
        if "libc" not in row:
            continue
        base, blo, bhi = row["libc"]
        cells = []
        for peer in WALL_PEERS:
            if peer not in row:
                cells.append("–")
                continue
            med, lo, hi = row[peer]
            ratio, rlo, rhi = med / base, lo / bhi, hi / blo
            cell = f"{ratio:.2f} ({rlo:.2f}–{rhi:.2f})"
            if rlo > 1 and peer.startswith("rawmap"):
                slower.append(f"{GROUP_LABEL[group].format(key[1])}: {peer} {ratio:.2f}")
                cell = f"**{cell}**"
            cells.append(cell)
        label = GROUP_LABEL[group].format(key[1])
        p(f"| {label} | {human(base)} | " + " | ".join(cells) + " |")
p("")
targets.append(("criterion: no case slower than libc beyond its confidence intervals",
                "; ".join(slower) if slower else "none slower", not slower))

# --- 2b. interleaved rounds -------------------------------------------------------
prs = tsv("paired.tsv")
CLOCK = {
    "cpu": "thread CPU time (user + system: the time waiting for a CPU left out)",
    "wall": "wall clock",
}
for clock in ("cpu", "wall"):
    rows = [r[1:] for r in prs if r[0] == clock]
    if not rows:
        continue
    p(f"### The same cases in interleaved rounds, {CLOCK[clock]}")
    p("")
    if clock == "cpu":
        p("criterion measures one peer after another, so load from other processes "
          "lands on some peers and not others. `target/release/paired` instead times "
          "one batch of every peer back to back in each of 41 rounds (rotating the "
          "order) and divides by libc's batch of the same round: the median ratio, "
          "with the quartiles in brackets, and libc's median time per call. A rawmap "
          "ratio whose lower quartile is above 1 is marked **bold**.")
    else:
        p("The same rounds by the wall clock.")
    p("")
    table = {}
    libc_abs = {}
    for group, param, peer, q1, m, q3, libc_ns in rows:
        table.setdefault((group, param), {})[peer] = (float(q1), float(m), float(q3))
        libc_abs[(group, param)] = float(libc_ns)
    p("| case | libc | " + " | ".join(WALL_PEERS) + " |")
    p("| --- | ---: |" + " ---: |" * len(WALL_PEERS))
    pslower = []
    for key, row in table.items():
        label = GROUP_LABEL[key[0]].format(key[1])
        cells = []
        for peer in WALL_PEERS:
            if peer not in row:
                cells.append("–")
                continue
            q1, m, q3 = row[peer]
            cell = f"{m:.2f} ({q1:.2f}–{q3:.2f})"
            if q1 > 1 and peer.startswith("rawmap"):
                pslower.append(f"{label}: {peer} {m:.2f}")
                cell = f"**{cell}**"
            cells.append(cell)
        p(f"| {label} | {human(libc_abs[key])} | " + " | ".join(cells) + " |")
    p("")
    targets.append((f"interleaved rounds ({clock}): no case slower than libc beyond "
                    "noise (lower quartile above 1)",
                    "; ".join(pslower) if pslower else "none slower", not pslower))

# --- 3. file scan ------------------------------------------------------------------
FILLS = [
    ("write4k", "4 KiB folios (the file written in 4 KiB `write`s)"),
    ("write4m", "2 MiB folios (the file written in 4 MiB `write`s)"),
]
scans = {}
for fill, _ in FILLS:
    rows = tsv(f"scan-{fill}.tsv")
    if rows:
        scans[fill] = rows
if scans:
    p("## File scan: a 1 GiB file in the page cache")
    p("")
    p("`target/release/scan 1024 9 FILL`: every method sums the file's `u64` words with "
      "the same memory-bound function (`#[inline(never)]`), checked against a sum "
      "computed from the file's generator. Median of 9 rounds; each round runs every "
      "method once, in rotating order. A fresh mapping is made, read and dropped inside "
      "the timed run (page faults and `munmap` included); the faulted map is made once "
      "and read again. GB/s is 10^9 bytes per second of wall time; CPU GB/s per second "
      "of the process's CPU time, all threads (below the wall figure when a helper "
      "thread works alongside); faults are minor page faults per run. `thread` rows "
      "populate with `MADV_POPULATE_READ` on a second thread ahead of the reader, "
      "`inline` rows populate each chunk on the reader's thread just before reading "
      "it. Random rows: 65536 reads of 4 KiB at seeded random page-aligned offsets, "
      "M reads/s alongside.")
    p("")
    p("The page cache's folio size decides what a fresh mapping costs: the kernel "
      "maps a whole large folio per fault (a PMD for a 2 MiB one), but only 16 "
      "small folios per fault (fault-around, 64 KiB). Who filled the cache decides the folio size (the "
      "writer's `write` size; readahead's window), not the reader, so both are "
      "measured.")
    p("")
    for fill, label in FILLS:
        rows = scans.get(fill)
        if not rows:
            continue
        meta = {r[0]: r[1:] for r in rows if r[0].startswith("#")}
        data = [r for r in rows if not r[0].startswith("#") and r[0] != "method"]
        gbs = {m: float(g) for m, g, *_ in data}
        base = gbs["pread 128 KiB buffer"]
        rbase = gbs["random 4 KiB pread"]
        ppf, pmd = meta.get("#folio", ["?", "?"])
        p(f"### {label}")
        p("")
        p(f"A fresh plain mapping scanned once: {ppf} pages mapped per fault, "
          f"{pmd} MiB of it mapped by PMD.")
        p("")
        p("| method | GB/s | vs pread | CPU GB/s | faults per run |")
        p("| --- | ---: | ---: | ---: | ---: |")
        for m, g, cpu, faults in data:
            g = float(g)
            if m.startswith("random"):
                ratio = g / rbase
                cell = f"{g:.2f} ({g * 1e9 / 4096 / 1e6:.2f} M reads/s)"
            else:
                ratio = g / base
                cell = f"{g:.2f}"
            p(f"| {m} | {cell} | {ratio:.2f} | {cpu} | {faults} |")
        p("")
        fresh = {m: g for m, g in gbs.items() if m.startswith("fresh")}
        best = max(fresh, key=fresh.get)
        single = {m: g for m, g in fresh.items() if "thread" not in m}
        best1 = max(single, key=single.get)
        threads = "2 threads" if "thread" in best else "1 thread"
        spread = max(fresh.values()) / min(fresh.values())
        targets.append((f"scan, {label.split(' (')[0]}: best fresh-mapping method within 10% of pread",
                        f"`{best}` ({threads}) {fresh[best]:.2f} GB/s = {fresh[best] / base:.2f}× "
                        f"pread {base:.2f}; best on 1 thread `{best1}` {single[best1] / base:.2f}×; "
                        f"plain fresh map {gbs['fresh map'] / base:.2f}×; the fresh-map "
                        f"rows spread {spread:.2f}× from slowest to fastest",
                        fresh[best] >= 0.9 * base))
        rescan = gbs["re-scan faulted map"]
        targets.append((f"scan, {label.split(' (')[0]}: re-scan of a faulted map ahead of pread",
                        f"{rescan:.2f} vs {base:.2f} GB/s ({rescan / base:.2f}×)", rescan > base))

# --- 4. binary sizes ------------------------------------------------------------------
sizes = tsv("sizes.tsv")
p("## Binary size")
p("")
p("The seed's records program (`bench/sizes/`), static `x86_64-unknown-linux-musl`, "
  "`lto = true`, `codegen-units = 1`, `panic = \"abort\"`, `strip = true`. The file "
  "size moves in whole pages, so `size`'s text and data are shown too; Δ is "
  "text + data against libc + std with the same `opt-level`.")
p("")
p("| program | opt-level | target | file bytes | text | data | Δ text+data vs libc |")
p("| --- | --- | --- | ---: | ---: | ---: | ---: |")
base = {}
for prog, prof, target, nbytes, text, data in sizes:
    if prog == "records libc+std":
        base[prof] = int(text) + int(data)
for prog, prof, target, nbytes, text, data in sizes:
    level = {"release": "3", "release-z": "\"z\"", "nolibc": "\"z\" (its own profile)"}[prof]
    delta = ""
    if prog.startswith("records") and prof in base:
        delta = f"{int(text) + int(data) - base[prof]:+d}"
    p(f"| {prog} | {level} | {target} | {nbytes} | {text} | {data} | {delta} |")
p("")
for prof in ("release", "release-z"):
    row = [r for r in sizes if r[0] == "records rawmap+std" and r[1] == prof]
    if row and prof in base:
        d = int(row[0][4]) + int(row[0][5]) - base[prof]
        level = {"release": "3", "release-z": "\"z\""}[prof]
        targets.append((f"records rawmap + std within 1 KiB of libc + std (opt-level {level})",
                        f"{d:+d} bytes of text + data", d <= 1024))
nolibc = [r for r in sizes if r[0] == "examples/nolibc"]
if nolibc:
    for r in nolibc:
        targets.append((f"examples/nolibc under 3 KiB ({r[2]})", f"{r[3]} bytes",
                        int(r[3]) < 3072))
else:
    p("`examples/nolibc` does not exist on the measured commit, so it has no row.")
    p("")
    targets.append(("examples/nolibc under 3 KiB on both architectures",
                    "not measured: no examples/nolibc on this commit", None))

# --- 5. build times ---------------------------------------------------------------
runs = {}
for crate, _, wall, user, sys_ in tsv("buildtime.tsv"):
    runs.setdefault(crate, []).append((float(wall), float(user) + float(sys_)))
if runs:
    med = {c: statistics.median(w for w, _ in v) for c, v in runs.items()}
    cpu = {c: statistics.median(t for _, t in v) for c, v in runs.items()}
    p("## Build time")
    p("")
    p("Clean `cargo build --release` of a trivial program (`bench/buildtime/`), "
      "dependencies already downloaded, a fresh target directory each time; "
      "median of 5 runs taken in rounds (each program once per round), wall "
      "seconds and CPU (user + system) seconds. Each "
      "rawmap row is compared with `syscalls` built with the same features "
      "(rawmap's `std` feature turns on `syscalls/std`). Builds of two seconds "
      "on a machine others are compiling on swing by a factor of two in wall "
      "time; the CPU time (user + system of cargo and rustc) is the steadier "
      "measure of what the build costs.")
    p("")
    p("| program depends on | wall runs (s) | wall median (s) | CPU median (s) | wall vs syscalls | CPU vs syscalls |")
    p("| --- | --- | ---: | ---: | ---: | ---: |")
    LABEL = {
        "rawmap": "rawmap (default features: `std`)",
        "rawmap-nostd": "rawmap, `no_std` (a `#![no_std]` library)",
        "syscalls-std": "syscalls alone, `features = [\"std\"]`",
        "syscalls": "syscalls alone, `default-features = false`",
        "syscalls-default": "syscalls alone, default features (`std`, `serde`)",
        "memmap2": "memmap2",
        "rustix": "rustix (`mm`)",
    }
    PAIR = {"rawmap": "syscalls-std", "rawmap-nostd": "syscalls"}
    for crate in LABEL:
        if crate not in runs:
            continue
        r = ", ".join(f"{w:.2f}" for w, _ in runs[crate])
        ref = PAIR.get(crate, "syscalls-std")
        p(f"| {LABEL[crate]} | {r} | {med[crate]:.2f} | {cpu[crate]:.2f} | "
          f"{med[crate] / med[ref]:.2f} | {cpu[crate] / cpu[ref]:.2f} |")
    p("")
    p("The ratio columns divide by the like-for-like `syscalls` row: "
      "`features = [\"std\"]` for every std program, `default-features = false` "
      "for the `no_std` one.")
    p("")
    for crate, ref in PAIR.items():
        for name, m in (("wall", med), ("CPU", cpu)):
            ratio = m[crate] / m[ref]
            targets.append((f"build ({name} time): {LABEL[crate]} within 1.5× of {LABEL[ref]}",
                            f"{ratio:.2f}× ({m[crate]:.2f} s vs {m[ref]:.2f} s)", ratio <= 1.5))

# --- targets ------------------------------------------------------------------------
p("## Targets")
p("")
p("| target | measured | met |")
p("| --- | --- | --- |")
for name, figure, met in targets:
    verdict = {True: "yes", False: "**no**", None: "not measured"}[met]
    p(f"| {name} | {figure} | {verdict} |")
p("")

print("\n".join(lines))
