#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Guest instructions per kernel function while a command runs in dom0.

tools/xenrig profile runs this: each variant boots with the shell suite and
QEMU's TCG plugin tools/rig/prof/insns.c; the command runs between two
snapshots of the plugin's counts, which System.map and the modules' lines
of /proc/kallsyms turn into instructions per function. With --per KEY (a
"KEY=N" line of the command's output, optionally KEY*SECONDS) the counts
are divided by N. Instructions, unlike seconds under TCG, do not depend on
the load of the machine, so two variants compare even on a busy host.
"""
import argparse
import bisect
import collections
import os
import re
import select
import subprocess
import sys
import tarfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run  # noqa: E402

HEADER = "include/qemu/qemu-plugin.h"


def plugin(work, repo):
    """Builds the plugin against the installed QEMU's plugin header; returns its path."""
    d = work / "prof"
    d.mkdir(exist_ok=True)
    so, src, hdr = d / "insns.so", repo / "tools/rig/prof/insns.c", d / "qemu-plugin.h"
    if not hdr.exists():
        ver = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "qemu-system-x86"],
                             capture_output=True, text=True, check=True).stdout
        upstream = ver.split(":", 1)[-1].rsplit("-", 1)[0]
        url = f"http://deb.debian.org/debian/pool/main/q/qemu/qemu_{upstream}.orig.tar.xz"
        print(f"profile: fetching {HEADER} from {url}", flush=True)
        tmp = d / "orig.tar.xz"
        urllib.request.urlretrieve(url, tmp)
        with tarfile.open(tmp) as t:
            m = next(m for m in t.getmembers() if m.name.endswith("/" + HEADER))
            hdr.write_bytes(t.extractfile(m).read())
        tmp.unlink()
    if not so.exists() or so.stat().st_mtime < src.stat().st_mtime:
        subprocess.run(["gcc", "-O2", "-shared", "-fPIC", f"-I{d}", "-o", str(so), str(src),
                        "-lpthread"], check=True)
    return so


def boot(work, so, variant, command, out):
    """Runs `command` in dom0 between two snapshots; returns its output lines."""
    out.mkdir(parents=True, exist_ok=True)
    for f in out.glob("*"):
        f.unlink()
    cmd = run.qemu_cmd(work, variant, f"{run.DOM0_ARGS} xenrig.suite=shell")
    cmd += ["-plugin", f"{so},dir={out}"]
    script = ("grep -F '[' /proc/kallsyms | sed 's/^/KSYM /'; echo PROF''-START; sleep 1; "
              f"{command}; echo PROF''-END; sleep 1; poweroff -f\n")
    p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, start_new_session=True)
    lines, buf, state, t0 = [], b"", 0, time.monotonic()
    log = open(out / "console.log", "w")
    try:
        while time.monotonic() - t0 < 1800 and state < 3:
            r, _, _ = select.select([p.stdout], [], [], 1.0)
            if not r:
                if p.poll() is not None:
                    break
                continue
            chunk = os.read(p.stdout.fileno(), 65536)
            if not chunk:
                break
            *new, buf = (buf + chunk).split(b"\n")
            for raw in new:
                line = raw.decode("utf-8", "replace").rstrip("\r")
                log.write(line + "\n")
                if state == 0 and "dom0 shell;" in line:
                    p.stdin.write(script.encode())
                    p.stdin.flush()
                    state = 1
                elif line.startswith("KSYM "):
                    with open(out / "modules.map", "a") as m:
                        m.write(line[5:] + "\n")
                elif state == 1 and line.startswith("PROF-START"):
                    (out / "req0").touch()
                    state = 2
                elif state == 2 and line.startswith("PROF-END"):
                    (out / "req1").touch()
                    for _ in range(600):
                        if (out / "snap1.txt").exists():
                            break
                        time.sleep(0.1)
                    state = 3
                elif state == 2 and not line.startswith(("[", "(XEN)")):
                    lines.append(line)
    finally:
        os.killpg(p.pid, 9)
        p.wait()
    if state < 3:
        sys.exit(f"profile: {variant} did not finish (console in {out / 'console.log'})")
    return lines


def symbols(paths):
    syms = []
    for path in paths:
        if path.exists():
            for line in open(path):
                f = line.split()
                if len(f) >= 3 and f[1] in "tTwW":
                    syms.append((int(f[0], 16), f[2]))
    syms.sort()
    return syms


def per_function(out, syms, count="instructions"):
    """Instructions, blocks or atomic instructions executed per function."""
    def load(p):
        c = collections.Counter()
        for line in open(p):
            a, n, length, locked = (int(x, 16 if i == 0 else 10)
                                    for i, x in enumerate(line.split()))
            runs = n // length
            c[a] += {"instructions": n, "blocks": runs, "atomics": runs * locked}[count]
        return c
    s0, s1 = load(out / "snap0.txt"), load(out / "snap1.txt")
    addrs = [a for a, _ in syms]
    fn = collections.Counter()
    for pc, n in s1.items():
        n -= s0.get(pc, 0)
        if n <= 0:
            continue
        i = bisect.bisect_right(addrs, pc) - 1
        if pc >> 40 == 0xffff82:
            name = "(xen)"
        elif i >= 0 and pc - addrs[i] < 0x10000:
            name = syms[i][1]
        else:
            name = "(unknown)"
        fn[name] += n
    return fn


def demangle(name):
    """A short name for a Rust v0 symbol: its last path components."""
    if not name.startswith("_R"):
        return name
    parts = re.findall(r"\d+([A-Za-z_][A-Za-z0-9_]*)", name)
    return "::".join(parts[-3:]) if parts else name


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", type=Path, required=True)
    ap.add_argument("--repo", type=Path, required=True)
    ap.add_argument("--variant", action="append", default=[])
    ap.add_argument("--per", default=None, help="KEY or KEY*SECONDS from the command's output")
    ap.add_argument("--top", type=int, default=40)
    ap.add_argument("--count", choices=("instructions", "blocks", "atomics"),
                    default="instructions",
                    help="what to count: instructions, translated blocks executed (a "
                         "jump, call or return ends one) or atomic instructions")
    ap.add_argument("command")
    args = ap.parse_args()
    so = plugin(args.work, args.repo)
    variants = args.variant or ["rust", "c"]
    tables, units = {}, {}
    for v in variants:
        out = args.work / "prof" / v
        lines = boot(args.work, so, v, args.command, out)
        print(f"# {v}: " + " ".join(lines[-8:]), flush=True)
        fn = per_function(out, symbols([args.work / f"build-{v}/System.map",
                                        out / "modules.map"]), args.count)
        unit = 1.0
        if args.per:
            key, _, secs = args.per.partition("*")
            m = [float(x) for x in re.findall(rf"^{re.escape(key)}=([0-9.]+)$",
                                                 "\n".join(lines), re.M)]
            if not m:
                sys.exit(f"profile: no '{key}=N' line in the output of {v}")
            unit = m[-1] * (float(secs) if secs else 1.0)
        tables[v], units[v] = fn, unit
    per = f" per {args.per}" if args.per else ""
    print(f"{args.count}{per}, kernel and Xen, while the command ran")
    for v in variants:
        t = tables[v]
        print(f"# {v}: total {sum(t.values()) / units[v]:.0f}, "
              f"without Xen {(sum(t.values()) - t['(xen)']) / units[v]:.0f}")
    names = set().union(*tables.values())
    top = sorted(names, key=lambda n: -max(tables[v][n] / units[v] for v in variants))
    print(" ".join(f"{v:>12}" for v in variants) + "  function")
    for n in top[:args.top]:
        print(" ".join(f"{tables[v][n] / units[v]:12.1f}" for v in variants)
              + f"  {demangle(n)[:90]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
