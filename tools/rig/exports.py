#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Check what the rust build exports to modules (Module.symvers).

In 6.12 every global symbol of the kernel crate and every Rust helper is
exported (EXPORT_SYMBOL_GPL). The project's safety argument needs two
things of that list:

- no exported symbol lets a module obtain a page that init_on_alloc did
  not zero (balloon_alloc_pages_noinit() and whatever reaches it);
- no balloon or grant-table driver internals are exported: those belong to
  their built-in driver crates, which export only the C API of
  include/xen/balloon.h and include/xen/grant_table.h.

Prints one line per offending symbol (demangled) and exits 1 when there is
any; exits 2 when the file does not look like the rust build's.
"""

import argparse
import re
import subprocess
import sys

# Crates whose symbols a module may see: the kernel crate and the Rust
# standard library parts the kernel builds.
ALLOWED_CRATES = {"kernel", "core", "alloc", "compiler_builtins", "bindings",
                  "macros", "uapi", "ffi", "__rustc"}

# Paths of the kernel crate that are one driver's internals.
DRIVER_PATHS = [
    (r"^kernel::xen::balloon\b", "balloon internals in the kernel crate"),
    (r"^kernel::xen::grant_table::(Driver|export_grant_table|PageHandle|OwnedPage|"
     r"PageArray|KernelOps|FreeCallback|CallbackFn|CallbackList|UnmapItem|"
     r"AutoXlatFrames|unmap_refs_sync|ops_from_raw|set_foreign_p2m|"
     r"clear_foreign_p2m|SHARED|cache|dma)\b",
     "grant-table driver internals in the kernel crate"),
]

# C and helper names: the no-zeroing allocation, and helpers that exist only
# for one driver.
C_DENY = [
    (re.compile(r"noinit", re.I), "reaches the allocation without init_on_alloc zeroing"),
    (re.compile(r"^rust_helper_xen_decrease_reservation_order$"), "balloon internal"),
    (re.compile(r"^(rust_)?xen_balloon_(?!init$)"), "balloon internal"),
    (re.compile(r"^rust_gnttab_"), "grant-table driver internal"),
    (re.compile(r"^gnttab_foreach_grant$"), "not exported by grant-table.c"),
    (re.compile(r"^rust_xen_(alloc|free)_ballooned_pages$|^rust_balloon_"),
     "balloon internal"),
]

# The C API the drivers must export (a sample): proves the file is the rust
# build's and complete.
REQUIRED = ["xen_alloc_ballooned_pages", "xen_free_ballooned_pages",
            "balloon_stats", "gnttab_grant_foreign_access", "gnttab_end_foreign_access"]


def demangle(names):
    if not names:
        return {}
    out = subprocess.run(["llvm-cxxfilt-19"], input="\n".join(names) + "\n",
                         capture_output=True, text=True, check=True).stdout.splitlines()
    return dict(zip(names, out))


def crate_of(path):
    # "<kernel::x::Y>::f" or "<T as kernel::Trait>::f" or "kernel::f"
    m = re.match(r"^<?(?:&(?:mut )?)?([A-Za-z_][A-Za-z0-9_]*)::", path)
    return m.group(1) if m else None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("symvers")
    args = ap.parse_args()
    syms = []
    with open(args.symvers) as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) >= 4:
                syms.append((parts[1], parts[2], parts[3]))
    names = {s for s, _, _ in syms}
    missing = [r for r in REQUIRED if r not in names]
    rust = [s for s in names if s.startswith("_R")]
    if missing or len(rust) < 50:
        print(f"exports: {args.symvers} is not a rust build's Module.symvers "
              f"(missing {missing}, {len(rust)} Rust symbols)")
        return 2
    dem = demangle(sorted(rust))
    bad = []
    for sym, mod, kind in sorted(syms):
        if sym.startswith("_R"):
            path = dem.get(sym, sym)
            # Strip the leading '<' of inherent impls for the path checks.
            plain = path.lstrip("<&").replace("mut ", "", 1) if path.startswith("<") else path
            crate = crate_of(path)
            if crate is not None and crate not in ALLOWED_CRATES:
                bad.append((path, kind, f"symbol of the driver crate '{crate}'"))
                continue
            for pat, why in DRIVER_PATHS:
                if re.search(pat, plain):
                    bad.append((path, kind, why))
                    break
            else:
                if re.search(r"noinit", path, re.I):
                    bad.append((path, kind, "reaches the allocation without init_on_alloc zeroing"))
        else:
            for rx, why in C_DENY:
                if rx.search(sym):
                    bad.append((sym, kind, why))
                    break
    for path, kind, why in bad:
        print(f"exported ({kind}): {path}: {why}")
    print(f"exports: {len(syms)} exported symbols, {len(rust)} of them Rust; "
          f"{len(bad)} must not be exported")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
