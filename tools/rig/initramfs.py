#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Build the dom0 and domU initramfs images for the Xen rig.

dom0 gets busybox, the Xen 4.17 toolstack (xenstored, xenconsoled,
xen-init-dom0, xl, the xenstore clients, vchan-socket-proxy) with the shared
libraries they need, the in-guest tests, the initramfs hooks shipped under
tools/qubes/, and the domU kernel and initramfs. One dom0 image is built per
kernel variant, because it carries that variant's kernel for its domUs.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

XEN_BINS = [
    "usr/lib/xen-4.17/bin/xl",
    "usr/lib/xen-4.17/bin/xenstored",
    "usr/lib/xen-4.17/bin/xenconsoled",
    "usr/lib/xen-4.17/bin/xen-init-dom0",
    "usr/lib/xen-4.17/bin/vchan-socket-proxy",
    "usr/lib/xen-4.17/bin/libxl-save-helper",
]
XENSTORE_CMDS = ["read", "write", "ls", "list", "rm", "exists", "watch", "chmod"]


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, **kw)


class Image:
    def __init__(self, root: Path, xen: Path):
        self.root = root
        self.xen = xen
        shutil.rmtree(root, ignore_errors=True)
        for d in ["bin", "sbin", "etc", "proc", "sys", "dev", "tmp", "run",
                  "root", "var/log", "var/run", "var/lib", "usr/bin",
                  "usr/sbin", "lib64", "tests/bin"]:
            (root / d).mkdir(parents=True, exist_ok=True)
        self.copy_file(Path("/bin/busybox"), "bin/busybox", mode=0o755)
        (root / "etc/passwd").write_text(
            "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n")
        (root / "etc/group").write_text("root:x:0:\nnogroup:x:65534:\n")

    def copy_file(self, src: Path, dst: str, mode=None):
        out = self.root / dst.lstrip("/")
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, out)
        if mode is not None:
            out.chmod(mode)

    def add_binary(self, src: Path, dst: str):
        """Copies an ELF program and every shared library it loads."""
        self.copy_file(src, dst, mode=0o755)
        env = dict(os.environ)
        env["LD_LIBRARY_PATH"] = str(self.xen / "usr/lib/x86_64-linux-gnu")
        out = subprocess.run(["ldd", str(src)], env=env, capture_output=True,
                             text=True)
        if "not a dynamic executable" in out.stdout + out.stderr:
            return
        for line in out.stdout.splitlines():
            m = re.search(r"=>\s*(\S+)", line) or re.match(r"\s*(/\S+)", line)
            if not m:
                continue
            lib = Path(m.group(1))
            if "not found" in line or not lib.exists():
                sys.exit(f"initramfs: {src} needs a missing library: {line.strip()}")
            if str(lib).startswith(str(self.xen)):
                dst_lib = "/" + str(lib.relative_to(self.xen))
            else:
                dst_lib = str(lib)
            if not (self.root / dst_lib.lstrip("/")).exists():
                self.copy_file(lib.resolve(), dst_lib)

    def add_tree(self, src: Path, dst: str):
        if src.exists():
            shutil.copytree(src, self.root / dst.lstrip("/"), dirs_exist_ok=True)

    def write(self, rel: str, text: str, mode=0o644):
        p = self.root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
        p.chmod(mode)

    def pack(self, out: Path):
        tmp = out.with_suffix(".tmp")
        with open(tmp, "wb") as f:
            files = subprocess.run(["find", "."], cwd=self.root, check=True,
                                   capture_output=True).stdout
            cpio = subprocess.Popen(["cpio", "-o", "-H", "newc", "-R", "0:0",
                                     "--quiet"], cwd=self.root,
                                    stdin=subprocess.PIPE, stdout=subprocess.PIPE)
            gz = subprocess.Popen(["gzip", "-1"], stdin=cpio.stdout, stdout=f)
            cpio.stdin.write(files)
            cpio.stdin.close()
            cpio.stdout.close()
            if cpio.wait() or gz.wait():
                sys.exit("initramfs: cpio/gzip failed")
        tmp.rename(out)


def build_programs(repo: Path, work: Path, out: Path):
    """Compiles the in-guest test programs: static ones, and the clients of
    Xen's own libraries (libxengnttab, libxenevtchn, libxenvchan from the
    Debian packages, linked against them as a distro program would be)."""
    out.mkdir(parents=True, exist_ok=True)
    xen = work / "xen"
    lib = xen / "usr/lib/x86_64-linux-gnu"
    headers = list((repo / "tools/tests/prog").glob("*.h"))

    def fresh(exe: Path, deps: list) -> bool:
        return exe.exists() and all(exe.stat().st_mtime >= d.stat().st_mtime for d in deps)

    for src in sorted((repo / "tools/tests/prog").glob("*.c")):
        exe = out / src.stem
        if fresh(exe, [src] + headers):
            continue
        run(["gcc", "-O2", "-Wall", "-Werror", "-static", "-o", str(exe), str(src)])
    for src in sorted((repo / "tools/tests/prog/libxen").glob("*.c")):
        exe = out / "libxen" / src.stem
        exe.parent.mkdir(exist_ok=True)
        if fresh(exe, [src] + list(src.parent.glob("*.h")) + headers):
            continue
        run(["gcc", "-O2", "-Wall", "-Werror", "-I", str(xen / "usr/include"),
             "-I", str(repo / "tools/tests/prog"), "-o", str(exe), str(src),
             "-L", str(lib), f"-Wl,-rpath-link,{lib}",
             "-lxenvchan", "-lxengnttab", "-lxenevtchn", "-lxenstore", "-lxenctrl"])


def add_tests(img: Image, repo: Path, progs: Path):
    img.add_tree(repo / "tools/tests/guest", "/tests")
    for exe in progs.iterdir():
        if exe.is_file():
            img.copy_file(exe, f"/tests/bin/{exe.name}", mode=0o755)
    for exe in (progs / "libxen").glob("*"):
        img.add_binary(exe, f"/tests/bin/{exe.name}")
    img.add_tree(repo / "tools/qubes", "/tests/hooks")
    for p in (img.root / "tests").rglob("*"):
        if p.is_file() and (p.suffix == ".sh" or p.parent.name in ("bin",)):
            p.chmod(0o755)


def add_modules(img: Image, work: Path, variant: str):
    """The variant's loadable modules (xen-gntalloc), as modules_install left them."""
    src = work / f"modules-{variant}/lib/modules"
    if src.exists():
        # Not the build/ and source/ links back into the build tree.
        shutil.copytree(src, img.root / "lib/modules", dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns("build", "source"))


def build_domu(repo: Path, work: Path, variant: str, progs: Path) -> Path:
    img = Image(work / f"initramfs/domu-{variant}", work / "xen")
    img.copy_file(repo / "tools/rig/domu-init", "/init", mode=0o755)
    # Xen's shutdown request runs /sbin/poweroff through orderly_poweroff().
    img.write("sbin/poweroff", "#!/bin/busybox sh\nexec /bin/busybox poweroff -f\n", 0o755)
    # The xenstore clients and vchan-socket-proxy, for tests of user-space
    # grant sharing from the domU.
    add_xen_clients(img, work / "xen", ["usr/lib/xen-4.17/bin/vchan-socket-proxy"])
    add_modules(img, work, variant)
    add_tests(img, repo, progs)
    out = work / f"initramfs/domu-{variant}.cpio.gz"
    img.pack(out)
    return out


def add_xen_clients(img: Image, xen: Path, bins):
    for b in bins + ["usr/bin/xenstore"]:
        img.add_binary(xen / b, "/usr/sbin/" + Path(b).name)
    for c in XENSTORE_CMDS:
        os.symlink("xenstore", img.root / f"usr/sbin/xenstore-{c}")


# The variant whose PVH domUs run another kernel: debug's run the kasan build
# (KASAN has no support for Xen PV guests, such as dom0, in 6.12).
PVH_KERNEL = {"debug": "kasan"}


def build_dom0(repo: Path, work: Path, variant: str, progs: Path, domu: Path,
               pvh_domu: Path | None = None):
    xen = work / "xen"
    img = Image(work / f"initramfs/dom0-{variant}", xen)
    add_xen_clients(img, xen, XEN_BINS)
    add_modules(img, work, variant)
    img.copy_file(Path("/lib/x86_64-linux-gnu/libgcc_s.so.1"),
                  "/lib/x86_64-linux-gnu/libgcc_s.so.1")
    # libxl-save-helper is looked up in its packaged place.
    os.makedirs(img.root / "usr/lib/xen-4.17/bin", exist_ok=True)
    os.symlink("/usr/sbin/libxl-save-helper",
               img.root / "usr/lib/xen-4.17/bin/libxl-save-helper")
    for d in ["var/lib/xen", "var/lib/xenstored", "var/log/xen/console",
              "var/run/xen", "var/run/xenstored", "etc/xen", "var/lock"]:
        (img.root / d).mkdir(parents=True, exist_ok=True)
    img.write("etc/xen/xl.conf", "# xl defaults are fine for the rig\n")
    img.copy_file(repo / "tools/rig/dom0-init", "/init", mode=0o755)
    kernel = work / f"build-{variant}/arch/x86/boot/bzImage"
    img.copy_file(kernel, "/guest/bzImage")
    img.copy_file(domu, "/guest/initrd.gz")
    if pvh_domu is not None:
        pvh = PVH_KERNEL[variant]
        img.copy_file(work / f"build-{pvh}/arch/x86/boot/bzImage", "/guest/pvh/bzImage")
        img.copy_file(pvh_domu, "/guest/pvh/initrd.gz")
        img.write("guest/pvh/variant", pvh + "\n")
    img.write("etc/xenrig-variant", variant + "\n")
    add_tests(img, repo, progs)
    # Debian's stress-ng for the soak suite: in dom0, and as an archive that
    # dom0 hands a domU as its disk (only the soak domU unpacks it).
    stress = Path("/usr/bin/stress-ng")
    if stress.exists():
        img.add_binary(stress, "/usr/bin/stress-ng")
        sng = Image(work / "initramfs/stress-ng", xen)
        sng.add_binary(stress, "/usr/bin/stress-ng")
        sng.pack(img.root / "guest/stress-ng.cpio.gz")
    img.pack(work / f"initramfs/dom0-{variant}.cpio.gz")


# The HVM device model and firmware, from Debian's qemu-system-xen, seabios
# and qemu-system-data, in the places libxl looks for them.
HVM_FILES = [
    "usr/lib/xen-4.17/boot/hvmloader",
    "usr/share/seabios/bios-256k.bin",
    "usr/share/qemu/linuxboot_dma.bin",
    "usr/share/qemu/linuxboot.bin",
    "usr/share/qemu/kvmvapic.bin",
    "usr/share/qemu/keymaps/en-us",
]
HVM_DM = "usr/libexec/xen-qemu-system-i386"


def build_hvm(work: Path) -> Path | None:
    """An archive appended to dom0's initramfs by the boots that start HVM
    domUs (tools/rig/run.py): the others do not unpack its 12 MB."""
    xen = work / "xen"
    if not (xen / HVM_DM).exists():
        return None
    img = Image(work / "initramfs/hvm", xen)
    shutil.rmtree(img.root / "bin")
    img.add_binary(xen / HVM_DM, "/" + HVM_DM)
    for f in HVM_FILES:
        img.copy_file(xen / f, "/" + f)
    out = work / "initramfs/hvm.cpio.gz"
    img.pack(out)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", type=Path, required=True)
    ap.add_argument("--repo", type=Path, required=True)
    ap.add_argument("--variant", action="append", default=[])
    args = ap.parse_args()
    progs = args.work / "initramfs/progs"
    build_programs(args.repo, args.work, progs)
    build_hvm(args.work)
    for v in args.variant or ["rust", "c", "debug"]:
        if (args.work / f"build-{v}/arch/x86/boot/bzImage").exists():
            domu = build_domu(args.repo, args.work, v, progs)
            pvh = PVH_KERNEL.get(v)
            pvh_domu = None
            if pvh and (args.work / f"build-{pvh}/arch/x86/boot/bzImage").exists():
                pvh_domu = build_domu(args.repo, args.work, pvh, progs)
            build_dom0(args.repo, args.work, v, progs, domu, pvh_domu)


if __name__ == "__main__":
    main()
