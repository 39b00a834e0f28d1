# SPDX-License-Identifier: GPL-2.0
# A PV dom0 whose frames reach into the machine's PCI hole: QEMU's 4 GiB
# machine has RAM at 0-3 GiB and 4-5 GiB, and dom0 gets 3.5 GiB
# (dom0_mem=3584M,max:3584M), so the kernel gives back or moves the frames
# at 3-3.5 GiB at boot (arch/x86/xen/setup.c: "Released"/"Remapped").
# The balloon's view must still be Xen's: the driver starts from Xen's
# count (XENMEM_current_reservation, as 6.12.117 does again after the
# partial revert of the 7.0 initialisation change), its target is that
# count, nothing is ballooned at boot, MemTotal does not exceed what Xen
# backs, and xl mem-set moves dom0 down and back.

moved() {
	dmesg | sed -n 's/.*\(Released\|Remapped\) \([0-9]*\) page(s).*/\2/p' |
		awk '{ n += $1 } END { print n + 0 }'
}
memtotal() { awk '$1 == "MemTotal:" { print $2 }' /proc/meminfo; }

toolstack_up || fail remap-toolstack "toolstack did not start"
S=$(cur_kb)
X=$(xen_nr_pages 0)
echo "balloon-remap: $(dmesg | grep -E 'Released [0-9]+ page|Remapped [0-9]+ page' | tr '\n' ' ')"
echo "balloon-remap: current_kb=$S target_kb=$(cat $M/target_kb) low_kb=$(cat $M/info/low_kb) high_kb=$(cat $M/info/high_kb) MemTotal=$(memtotal) xen_nr_pages=$X xl-list-MiB=$(domu_mem 0)"
# 512 MiB of frames in the hole (131072 pages): the case this boot is for.
m=$(moved)
if [ "$m" -ge 120000 ]; then
	pass remap-frames-moved-at-boot
else
	fail remap-frames-moved-at-boot "released + remapped: $m pages, want >= 120000"
fi
# Xen counts the pages it backs exactly (debug key q); the balloon starts
# from that count and has not moved since.
if [ -n "$X" ] && near "$S" $((X * 4)) 1024; then
	pass remap-current-is-xen-count
else
	fail remap-current-is-xen-count "current_kb=$S, Xen: ${X:-?} pages ($((${X:-0} * 4)) KiB)"
fi
expect remap-target-equals-current "$(cat $M/target_kb)" "$S"
expect remap-nothing-ballooned-at-boot "$(cat $M/info/low_kb) $(cat $M/info/high_kb)" "0 0"
if domu_mem_near 0 3584; then
	pass remap-xl-list-dom0-mem
else
	fail remap-xl-list-dom0-mem "xl list: $(domu_mem 0) MiB, want 3584"
fi
t=$(memtotal)
if [ "$t" -le "$S" ]; then
	pass remap-memtotal-within-xen-count
else
	fail remap-memtotal-within-xen-count "MemTotal $t KiB > current_kb $S"
fi

# Down 256 MiB and back, by xl mem-set (the watch on memory/target).
XM=$((${X:-0} / 256))
xl mem-set 0 $((S - 262144))k
if wait_until 120 kb_is $((S - 262144)) && wait_until 30 domu_mem_near 0 $((XM - 256)); then
	pass remap-mem-set-down
else
	fail remap-mem-set-down "current_kb=$(cur_kb), xl list $(domu_mem 0) MiB, want $((S - 262144)) KiB"
fi
xl mem-set 0 ${S}k
if wait_until 120 kb_is "$S" && wait_until 30 domu_mem_near 0 $XM; then
	pass remap-mem-set-back
else
	fail remap-mem-set-back "current_kb=$(cur_kb), xl list $(domu_mem 0) MiB, want $S KiB"
fi
expect remap-memtotal-back "$(memtotal)" "$t"
X2=$(xen_nr_pages 0)
expect remap-xen-count-back "$X2" "$X"
