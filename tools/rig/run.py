#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Boot Xen + dom0 under QEMU (TCG) and collect the in-guest test results.

Each boot runs one suite (tools/tests/guest/suites/NAME.sh) with its own
dom0 command line. Guest lines "XENRIG: PASS name" / "XENRIG: FAIL name: why"
become one PASS/FAIL line per case; every boot also checks that it reached
the end of its suite and that the kernel log shows no oops, warning, lockup
or stall. The closing line is "N passed, N failed"; the exit code is 1 on
any failure. Every wait has a timeout and QEMU never outlives this program.
"""

import argparse
import os
import re
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

# name: (dom0 command line additions, suite, timeout in seconds)
BOOTS = {
    "scrub-qubes": ("xen_scrub_pages=0", "scrub_qubes", 900),
    "scrub-off": ("xen_scrub_pages=off", "scrub_off", 300),
    "scrub-invalid": ("xen_scrub_pages=maybe", "scrub_bad", 300),
    "domu-pvh": ("", "domu_pvh", 900),
    "domu-hvm": ("rig:hvm", "domu_hvm", 2400),
    "balloon-dom0": ("", "balloon_dom0", 900),
    "balloon-stress": ("", "balloon_stress", 900),
    "kunit": ("kunit.enable=1", "kunit", 900),
    "pv-devices": ("", "pv_devices", 900),
    "grant-cross": ("", "grant_cross", 900),
    "gntalloc": ("", "gntalloc", 900),
    "gntalloc-xen": ("", "gntalloc_xen", 1200),
    "lifecycle": ("", "lifecycle", 1500),
    # 10 balloon cycles under load here; tools/xenrig soak runs 200 or more.
    "soak": ("xenrig.cycles=10", "soak", 1800),
    "grant-dom0": ("grant_table.free_per_iteration=77 xen:gnttab_max_frames=512 "
                   "xen:dom0_mem=2048M,max:2048M", "grant_dom0", 1200),
    # A PV dom0 of 3.5 GiB on a 4 GiB machine: its last 512 MiB of frames lie in the
    # machine's PCI hole (3-4 GiB), so the kernel moves them above 4 GiB at boot.
    "balloon-remap": ("qemu:mem=4096 xen:dom0_mem=3584M,max:3584M", "balloon_remap", 600),
}
# Boots only the debug variant runs: they need its fault injection.
DEBUG_ONLY = {
    "faults": ("", "faults", 1200),
}
BOOTS.update(DEBUG_ONLY)
# Boots the debug variant skips, for CI's 90 minutes: balloon-remap's code (dom0's
# balloon initialisation) runs in every other debug boot; domu-hvm's guests run the
# balloon code the PVH domUs of domu-pvh and lifecycle run under KASAN, and an HVM domU
# of the debug kernel took 8-13 minutes a boot (the slowest boot of all).
NOT_DEBUG = {"balloon-remap", "domu-hvm"}
# What a run of every variant (tools/xenrig test, CI's 90 minutes on two cores) leaves out;
# "tools/xenrig test c" or "test debug" runs them. c: the C drivers are upstream's, and these
# boots, the longest of the c variant (2-8 minutes each: C's guests zero every page they
# give back), test the C driver's guests, not this project's code, which rust and debug
# run. debug: the scrub switch's command-line parsing and the Qubes initramfs hooks (shell),
# whose ballooning and scrubbing every other debug boot runs, and gntalloc-xen (3-4
# minutes), whose gntalloc and gntdev paths gntalloc, grant-cross, lifecycle and soak run.
SKIPPED_IN_ALL = {"c": {"domu-pvh", "domu-hvm", "lifecycle"},
                  "debug": {"scrub-qubes", "scrub-off", "scrub-invalid", "gntalloc-xen"}}
SUITES = {"all": list(BOOTS)}

# Benchmarks: name -> dom0 boots (command line additions, suite). Each round
# boots every variant for every entry, alternating which variant goes first.
BENCHES = {
    "dom0": [("init_on_alloc=1 xenrig.reps=3", "bench_dom0"),
             ("init_on_alloc=0 xenrig.reps=3", "bench_dom0")],
    # PVH and HVM domUs below their maximum: every combination of init_on_alloc/init_on_free.
    "pvh": [("xenrig.reps=2", "bench_pvh")],
    "hvm": [("rig:hvm xenrig.type=hvm xenrig.reps=1", "bench_pvh")],
    # The same under QEMU's -icount (see qemu_cmd): guest time counted in instructions.
    "pvh-icount": [("xenrig.reps=2 qemu:icount", "bench_pvh")],
    "hvm-icount": [("rig:hvm xenrig.type=hvm xenrig.reps=1 qemu:icount", "bench_pvh")],
    # dom0 may grow to 4 GiB: the pages gntdev maps grants into then come from the balloon's
    # list, which takes them back after the unmap, and the balloon does not refill itself
    # with hypercalls (50-75 ms without a reschedule point in either driver) while the drain
    # is being measured.
    "grant": [(f"grant_table.free_per_iteration={n} xenrig.reps=2 "
               "xen:gnttab_max_frames=512 xen:dom0_mem=2048M,max:4096M", "bench_grant")
              for n in (10, 10000, 0)],
    "gntalloc": [("xenrig.reps=3", "bench_gntalloc")],
    # The same with guest time counted in instructions: what each driver costs, whatever
    # the host's load (the timed cells move by 10-20 % between runs of one build).
    "gntalloc-icount": [("xenrig.reps=3 qemu:icount", "bench_gntalloc")],
    # The balloon thread's CPU time while dom0's target cannot be met (below and above).
    "idle": [("xenrig.reps=1", "bench_idle")],
    # CPU time while 100,000 deferred entries stay mapped for 60 s (with the other grant rows).
    "grant-hold": [("grant_table.free_per_iteration=0 xenrig.reps=1 xenrig.hold=60 "
                    "xen:gnttab_max_frames=512 xen:dom0_mem=2048M,max:4096M", "bench_grant")],
}

# spec-ctrl=eager-fpu=1: with QEMU's "max" CPU Xen would switch the vector
# registers of PV vCPUs lazily (CR0.TS and #NM), and under TCG that lets a
# process see another context's SSE/AVX registers now and then once two
# domains share the CPUs (tools/tests/prog/fpcheck.c catches it; vchan data
# got corrupted by it). Xen switches them eagerly on most real CPUs anyway.
XEN_ARGS = ("console=com1 com1=115200,8n1 dom0_mem=1024M,max:1024M "
            "dom0_max_vcpus=2 loglvl=all guest_loglvl=all spec-ctrl=eager-fpu=1")
DOM0_ARGS = "console=hvc0 earlyprintk=xen panic=5"
IDLE_TIMEOUT = 300
# With an HVM domU, under TCG on a loaded host, dom0 and Xen were seen silent
# for over 300 s early in the C guest's boot, and the boot was cut there.
# The likely cause: the C balloon zeroes (init_on_alloc) every page it gives
# back, which Xen must populate first, and once the populate-on-demand cache
# is empty Xen sweeps the guest for zero pages holding its p2m lock, which
# dom0's device model waits for.
IDLE_TIMEOUT_HVM = 720

BAD_KERNEL_LINES = re.compile(
    r"Oops|BUG:|WARNING:|Call Trace|soft lockup|hard LOCKUP|"
    r"rcu: INFO|self-detected stall|Kernel panic|general protection|"
    r"\(XEN\) Panic|Domain 0 crashed|"
    # The sanitizers of the debug variant (KASAN and lockdep report as "BUG:" and "WARNING:").
    r"UBSAN:|list_add corruption|list_del corruption")


def qemu_cmd(work: Path, variant: str, dom0_args: str):
    xen = work / "xen/xen.elf"
    kernel = work / f"build-{variant}/arch/x86/boot/bzImage"
    initrd = work / f"initramfs/dom0-{variant}.cpio.gz"
    for f in (xen, kernel, initrd):
        if not f.exists():
            sys.exit(f"run: {f} is missing: run tools/xenrig build and initramfs first")
    # "xen:OPT" words of a boot's arguments go to the hypervisor's command line.
    words = dom0_args.split()
    # "rig:hvm": dom0 also gets the HVM device model and firmware, an archive
    # appended to its initramfs (Linux unpacks concatenated archives in turn).
    if "rig:hvm" in words:
        hvm = work / "initramfs/hvm.cpio.gz"
        if not hvm.exists():
            sys.exit(f"run: {hvm} is missing: run tools/xenrig deps and initramfs")
        both = work / f"initramfs/dom0-{variant}-hvm.cpio.gz"
        if not both.exists() or both.stat().st_mtime < max(
                initrd.stat().st_mtime, hvm.stat().st_mtime):
            with open(both.with_suffix(".tmp"), "wb") as out:
                for part in (initrd, hvm):
                    out.write(part.read_bytes())
            both.with_suffix(".tmp").rename(both)
        initrd = both
    xen_args = " ".join([XEN_ARGS] + [w[4:] for w in words if w.startswith("xen:")])
    # "qemu:icount": a virtual clock driven by the instruction count (one instruction is
    # 2^3 ns), one host thread for both CPUs, and no idle wait. Guest time then depends on
    # the work done, not on the load of a shared host.
    qemu_extra = ["-icount", "shift=3,sleep=off"] if "qemu:icount" in words else []
    # "qemu:mem=MIB": the machine's memory (3 GiB otherwise).
    mem = next((w[9:] for w in words if w.startswith("qemu:mem=")), "3072")
    dom0_args = " ".join(w for w in words if not w.startswith(("xen:", "qemu:", "rig:")))
    if "," in dom0_args:
        sys.exit("run: the dom0 command line cannot hold commas (QEMU splits -initrd on them)")
    return ["qemu-system-x86_64", "-accel", "tcg", "-cpu", "max,-smap,-smep",
            "-m", mem, "-smp", "2", "-nodefaults", "-display", "none",
            "-no-reboot", "-serial", "stdio", "-kernel", str(xen),
            "-append", xen_args,
            "-initrd", f"{kernel} {dom0_args},{initrd}"] + qemu_extra


def boot(work, variant, name, extra_args, suite, timeout, echo, log_path):
    """Runs one boot; returns (started, done, results, bad_lines, bench).

    bench holds (key, value) from the guest's "XENRIG-BENCH key value" lines.
    """
    args = f"{DOM0_ARGS} {extra_args} xenrig.suite={suite}".strip()
    cmd = qemu_cmd(work, variant, args)
    results, bad, bench = [], [], []
    started = done = False
    idle = IDLE_TIMEOUT_HVM if "rig:hvm" in extra_args.split() else IDLE_TIMEOUT
    t0 = time.monotonic()
    last = t0
    with open(log_path, "w") as log:
        log.write("# " + " ".join(cmd) + "\n")
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                start_new_session=True)
        buf = b""
        try:
            while True:
                now = time.monotonic()
                if now - t0 > timeout:
                    results.append(("FAIL", "boot-finished-in-time",
                                    f"no end after {timeout} s"))
                    break
                if now - last > idle:
                    results.append(("FAIL", "boot-finished-in-time",
                                    f"no output for {idle} s"))
                    break
                r, _, _ = select.select([proc.stdout], [], [], 1.0)
                if not r:
                    if proc.poll() is not None:
                        break
                    continue
                chunk = os.read(proc.stdout.fileno(), 65536)
                if not chunk:
                    break
                last = time.monotonic()
                buf += chunk
                *lines, buf = buf.split(b"\n")
                for raw in lines:
                    line = raw.decode("utf-8", "replace").rstrip("\r")
                    log.write(line + "\n")
                    if echo and not line.startswith(("[", "(XEN)", "(d")):
                        print(line, flush=True)
                    if "XENRIG-START" in line:
                        started = True
                    elif "XENRIG-DONE" in line:
                        done = True
                    m = re.search(r"XENRIG: (PASS|FAIL) ([^\s:]+)(?:: (.*))?", line)
                    b = re.search(r"XENRIG-BENCH (\S+) ([0-9.]+)$", line)
                    if m or "XENRIG-START" in line:
                        # Host seconds since QEMU started: where a boot's time goes.
                        log.write(f"# +{time.monotonic() - t0:.1f} s\n")
                    if m:
                        results.append((m.group(1), m.group(2), m.group(3) or ""))
                    elif b:
                        bench.append((b.group(1), float(b.group(2))))
                    elif BAD_KERNEL_LINES.search(line):
                        bad.append(line.strip())
                # The log shows a running boot as it goes.
                log.flush()
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    return started, done, results, bad, bench


def machine_reset(log_path, results):
    """Whether QEMU stopped on its own (no timeout) with neither Xen nor dom0
    having reported a shutdown, a panic or a crash: the emulated machine
    reset (-no-reboot turns a reset, such as a triple fault in Xen under
    TCG's emulated SVM, into QEMU's silent exit)."""
    if any(name == "boot-finished-in-time" for _, name, _ in results):
        return False
    tail = log_path.read_text(errors="replace").splitlines()[-40:]
    return not any(re.search(r"reboot: |Dom0 shutdown|Panic|crashed|Kernel panic|"
                             r"Power down|System halted|Restarting system", line)
                   for line in tail)


def run_boot(args, variant, name):
    extra, suite, timeout = BOOTS[name]
    if args.cmdline:
        # Later words win: tools/xenrig soak raises xenrig.cycles this way.
        extra = f"{extra} {args.cmdline}".strip()
        timeout *= 10
    if variant == "debug":
        # KASAN, lockdep and kmemleak slow every step under TCG.
        timeout *= 2
    logs = args.work / "logs"
    logs.mkdir(exist_ok=True)
    log_path = logs / f"{variant}-{name}.log"
    for attempt in (1, 2):
        started, done, results, bad, _ = boot(args.work, variant, name, extra,
                                           suite, timeout, args.verbose, log_path)
        if attempt == 2:
            break
        if not started:
            print(f"note: {variant}/{name} died before its tests; booting once more "
                  f"(log of the failed boot: {log_path}.failed)", flush=True)
            os.replace(log_path, str(log_path) + ".failed")
            continue
        if not done and not bad and machine_reset(log_path, results):
            print(f"note: {variant}/{name}: the emulated machine reset with no report "
                  f"from Xen or dom0; booting once more (log: {log_path}.reset)", flush=True)
            os.replace(log_path, str(log_path) + ".reset")
            continue
        break
    if not done:
        results.append(("FAIL", "suite-completed",
                        f"suite {'stopped early' if started else 'never started'}; "
                        f"log: {log_path}"))
    if bad:
        results.append(("FAIL", "kernel-log-clean", bad[0][:200]))
    else:
        results.append(("PASS", "kernel-log-clean", ""))
    return results, log_path


def median(xs):
    xs = sorted(xs)
    n = len(xs)
    return (xs[n // 2] + xs[(n - 1) // 2]) / 2 if xs else float("nan")


def run_bench(args, variants):
    """Alternates the variants over rounds and prints medians and ratios."""
    names = list(BENCHES) if args.bench == "all" else args.bench.split(",")
    for n in names:
        if n not in BENCHES:
            sys.exit(f"run: unknown benchmark '{n}' (have: all, {', '.join(BENCHES)})")
    samples = {}
    failures = 0
    logs = args.work / "logs"
    logs.mkdir(exist_ok=True)
    for rnd in range(args.rounds):
        order = variants if rnd % 2 == 0 else list(reversed(variants))
        for n in names:
            for i, (extra, suite) in enumerate(BENCHES[n]):
                for v in order:
                    log = logs / f"bench-{n}{i}-{v}-r{rnd}.log"
                    _, done, results, bad, bench = boot(
                        args.work, v, f"bench-{n}", extra, suite, 1800,
                        args.verbose, log)
                    for key, val in bench:
                        samples.setdefault(key, {}).setdefault(v, []).append(val)
                    fails = [r for r in results if r[0] == "FAIL"]
                    if fails or bad or not done:
                        failures += 1
                        why = fails[0][2] if fails else (bad[0] if bad else "did not finish")
                        print(f"# round {rnd + 1}: {v} {n} had a problem: {why} (log {log})")
                    print(f"# round {rnd + 1}/{args.rounds}: {v} {n}{i} done", flush=True)
    width = max([len(k) for k in samples] + [10])
    head = f"{'benchmark':<{width}}  " + "  ".join(f"{v + ' median':>12}" for v in variants)
    if len(variants) == 2:
        head += f"  {variants[0] + '/' + variants[1]:>10}"
    lines = [head]
    for key in sorted(samples):
        meds = [median(samples[key].get(v, [])) for v in variants]
        line = f"{key:<{width}}  " + "  ".join(f"{m:12.3f}" for m in meds)
        if len(variants) == 2 and meds[1]:
            line += f"  {meds[0] / meds[1]:10.2f}"
        ns = ",".join(str(len(samples[key].get(v, []))) for v in variants)
        lines.append(line + f"   (n={ns})")
    print("\n".join(lines))
    print("# -MBps, -per-s: higher is better; -s, -ms, -us: lower is better (guest time).")
    (args.work / "bench-results.txt").write_text("\n".join(lines) + "\n")
    return 1 if failures else 0


def wait_for_build(variant, status_file):
    """Waits for a build that runs beside the boots; '' once it succeeded,
    otherwise why not."""
    t0 = time.monotonic()
    note = t0
    while not status_file.exists():
        if time.monotonic() - t0 > 3600:
            return f"not done after an hour of waiting; see {status_file.with_suffix('.log')}"
        if time.monotonic() - note >= 60:
            note = time.monotonic()
            print(f"# waiting for the {variant} build ({note - t0:.0f} s)", flush=True)
        time.sleep(2)
    if time.monotonic() - t0 >= 2:
        print(f"# {variant} build ready after {time.monotonic() - t0:.0f} s of waiting",
              flush=True)
    status = status_file.read_text().strip()
    return "" if status == "0" else f"exit status {status or '?'}; see {status_file.with_suffix('.log')}"


def _terminate(signum, _frame):
    # Turn SIGTERM/SIGHUP into an exception so boot()'s cleanup kills QEMU.
    raise SystemExit(128 + signum)


def main():
    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGHUP, _terminate)
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", type=Path, required=True)
    ap.add_argument("--variant", action="append", default=[])
    ap.add_argument("--suite", default=None,
                    help="'all' or a boot name: " + ", ".join(BOOTS))
    ap.add_argument("--demo", action="store_true")
    ap.add_argument("--interactive", action="store_true")
    ap.add_argument("--cmdline", default="")
    ap.add_argument("--verbose", action="store_true")
    ap.add_argument("--bench", default=None,
                    help="run benchmarks: " + ", ".join(BENCHES) + " or all")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--results", type=Path,
                    help="PASS/FAIL lines from earlier steps, counted in the summary")
    ap.add_argument("--wait-for", action="append", default=[], metavar="VARIANT=FILE",
                    help="boot VARIANT once FILE holds its build's exit status "
                         "(tools/xenrig test builds debug while the others boot)")
    args = ap.parse_args()
    variants = args.variant or ["rust"]

    if args.interactive:
        cmd = qemu_cmd(args.work, variants[0],
                       f"{DOM0_ARGS} {args.cmdline} xenrig.suite=shell".strip())
        os.execvp(cmd[0], cmd[:cmd.index("-serial")] + ["-serial", "mon:stdio"]
                  + cmd[cmd.index("-serial") + 2:])

    if args.demo:
        BOOTS["demo"] = ("xen_scrub_pages=0 rig:hvm", "demo", 900)
        _, _, results, bad, _ = boot(args.work, variants[0], "demo", *BOOTS["demo"],
                                  echo=True, log_path=args.work / "logs-demo.log")
        ok = all(r[0] == "PASS" for r in results) and not bad
        print(f"demo finished (full serial log: {args.work / 'logs-demo.log'})" if ok
              else "demo: something failed (see above)")
        return 0 if ok else 1

    if args.bench:
        return run_bench(args, variants)

    names = SUITES.get(args.suite or "all") or [args.suite]
    for n in names:
        if n not in BOOTS:
            sys.exit(f"run: unknown suite '{n}' (have: all, {', '.join(BOOTS)})")
    passed = failed = 0
    if args.results:
        if not args.results.exists():
            print(f"FAIL checks/ran: {args.results} is missing")
            failed += 1
        for line in args.results.read_text().splitlines() if args.results.exists() else []:
            if line.startswith("PASS "):
                passed += 1
            elif line.startswith("FAIL "):
                failed += 1
    waits = dict(w.split("=", 1) for w in args.wait_for)
    every = len(variants) > 1 and (args.suite or "all") == "all"
    for variant in variants:
        skipped = SKIPPED_IN_ALL.get(variant, set()) if every else set()
        if skipped:
            print(f"# {variant}: not in a run of every variant: {', '.join(sorted(skipped))} "
                  f"(tools/xenrig test {variant} runs them)", flush=True)
        if variant in waits:
            status = wait_for_build(variant, Path(waits[variant]))
            if status:
                print(f"FAIL {variant}/build: {status}", flush=True)
                failed += 1
                continue
        for name in names:
            if name in DEBUG_ONLY and variant != "debug":
                continue
            if name in NOT_DEBUG and variant == "debug" or name in skipped:
                continue
            t0 = time.monotonic()
            results, log_path = run_boot(args, variant, name)
            for status, case, why in results:
                line = f"{status} {variant}/{name}/{case}"
                if status == "FAIL":
                    failed += 1
                    line += f": {why}"
                else:
                    passed += 1
                print(line, flush=True)
            print(f"# {variant}/{name}: {time.monotonic() - t0:.0f} s, log {log_path}",
                  flush=True)
            if any(r[0] == "FAIL" for r in results):
                with open(log_path) as f:
                    tail = f.readlines()[-25:]
                print("# last lines of the log:\n" + "".join("#   " + t for t in tail),
                      flush=True)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed or not passed else 0


if __name__ == "__main__":
    sys.exit(main())
