#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Export the project as a numbered patch series against linux-source-6.12.

Reads tools/export/series.conf, writes NNNN-*.patch and a series file, and
with --check applies the series to a pristine tree twice (patch -p1 and
quilt push -a) and compares every touched file with the rig's tree.
"""

import argparse
import re
import shutil
import subprocess
import sys
from pathlib import Path


def repo_path(repo: Path, tree_path: str) -> Path:
    if tree_path.startswith("drivers/xen/rust/"):
        return repo / tree_path[len("drivers/xen/rust/"):]
    return repo / tree_path


def new_file_diff(repo: Path, tree_path: str) -> str:
    src = repo_path(repo, tree_path)
    text = src.read_text()
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        sys.exit(f"export: {src} does not end with a newline")
    out = [f"--- /dev/null\n", f"+++ b/{tree_path}\n",
           f"@@ -0,0 +1,{len(lines)} @@\n"]
    out += ["+" + ln for ln in lines]
    return "".join(out)


def split_patch(text: str):
    """Returns (header, changes) of a patch file."""
    m = re.search(r"^--- a/", text, re.M)
    if not m:
        sys.exit("export: a patch under patches/ has no '--- a/' line")
    head = text[:m.start()]
    head = re.sub(r"\n---\n$", "\n", head)
    return head, text[m.start():]


def build(repo: Path, out: Path, installed: list):
    conf = repo / "tools/export/series.conf"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    named, series = [], []
    entries = [ln.split() for ln in conf.read_text().splitlines()
               if ln.strip() and not ln.startswith("#")]
    for i, (source, *files) in enumerate(entries, 1):
        if source.endswith(".patch"):
            head, changes = split_patch((repo / "patches" / source).read_text())
        else:
            head, changes = (repo / "tools/export" / source).read_text(), ""
        subj = re.search(r"^Subject: \[PATCH\] (.*)$", head, re.M)
        if not subj:
            sys.exit(f"export: {source} has no 'Subject: [PATCH]' line")
        slug = re.sub(r"[^a-z0-9]+", "-", subj.group(1).lower()).strip("-")[:52]
        name = f"{i:04d}-{slug}.patch"
        head = head.replace("[PATCH]", f"[PATCH {i}/{len(entries)}]")
        body = changes + "".join(new_file_diff(repo, f) for f in files)
        (out / name).write_text(head.rstrip("\n") + "\n---\n" + body)
        series.append(name)
        named += files
    (out / "series").write_text("\n".join(series) + "\n")
    missing = sorted(set(installed) - set(named))
    extra = sorted(set(named) - set(installed))
    dup = sorted({f for f in named if named.count(f) > 1})
    if missing or extra or dup:
        sys.exit(f"export: series.conf does not match the installed files: "
                 f"missing {missing}, unknown {extra}, twice {dup}")
    return series


def touched_files(patch_dir: Path, series):
    files = set()
    for name in series:
        for m in re.finditer(r"^\+\+\+ b/(\S+)", (patch_dir / name).read_text(), re.M):
            files.add(m.group(1))
    return sorted(files)


def check(out: Path, series, work: Path, rig_tree: Path):
    """Applies the series twice to a pristine tree; compares with the rig."""
    src = Path("/usr/src/linux-source-6.12.tar.xz")
    base = work / "export-check"
    pristine = base / "pristine"
    if not (pristine / "Makefile").exists():
        shutil.rmtree(base, ignore_errors=True)
        base.mkdir(parents=True)
        subprocess.run(["tar", "-xf", str(src), "-C", str(base)], check=True)
        (base / "linux-source-6.12").rename(pristine)
    results = []
    files = touched_files(out, series)
    for how in ("patch-p1", "quilt"):
        tree = base / how
        shutil.rmtree(tree, ignore_errors=True)
        # Hard links are safe: patch writes new files instead of editing.
        subprocess.run(["cp", "-al", str(pristine), str(tree)], check=True)
        if how == "patch-p1":
            ok = all(subprocess.run(["patch", "-p1", "-s", "--fuzz=0", "-i",
                                     str(out / p)], cwd=tree).returncode == 0
                     for p in series)
        else:
            shutil.copytree(out, tree / "patches")
            ok = subprocess.run(["quilt", "push", "-a", "-q", "--fuzz=0"], cwd=tree,
                                stdout=subprocess.DEVNULL).returncode == 0
        if not ok:
            results.append(("FAIL", f"export/applies-with-{how}", "a patch did not apply"))
            continue
        results.append(("PASS", f"export/applies-with-{how}", ""))
        diff = [f for f in files
                if subprocess.run(["cmp", "-s", str(tree / f), str(rig_tree / f)]).returncode]
        if diff:
            results.append(("FAIL", f"export/{how}-tree-equals-rig-tree",
                            "differs: " + " ".join(diff[:5])))
        else:
            results.append(("PASS", f"export/{how}-tree-equals-rig-tree", ""))
        shutil.rmtree(tree)
    return results


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repo", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--installed", type=Path, required=True,
                    help="list of tree paths the rig installs from the repository")
    ap.add_argument("--check", action="store_true")
    ap.add_argument("--work", type=Path)
    ap.add_argument("--tree", type=Path)
    args = ap.parse_args()
    installed = args.installed.read_text().split()
    series = build(args.repo, args.out, installed)
    print(f"export: {len(series)} patches in {args.out}", file=sys.stderr)
    if args.check:
        failed = 0
        for status, name, why in check(args.out, series, args.work, args.tree):
            print(f"{status} {name}" + (f": {why}" if why else ""))
            failed += status == "FAIL"
        return 1 if failed else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
