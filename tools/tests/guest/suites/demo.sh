# SPDX-License-Identifier: GPL-2.0
# The demo: dom0 booted with xen_scrub_pages=0, the Qubes hook turning
# scrubbing on, dom0 ballooning, a PV domU ballooned with xl mem-set, and an
# HVM domU with Qubes' settings booted below its maximum.

show() {
	echo "--- $1"
	for f in scrub_pages target_kb info/current_kb info/low_kb info/high_kb; do
		printf '    %-16s %s\n' "$f" "$(cat $M/$f)"
	done
}
echo "=== Xen $(cat /sys/hypervisor/version/major).$(cat /sys/hypervisor/version/minor), dom0 kernel $(uname -r), variant $(cat /etc/xenrig-variant)"
grep -q ' T xenmem_reservation_scrub_page$' /proc/kallsyms && impl=scrub.rs || impl=mem-reservation.c
echo "=== scrub switch from $impl; dom0 command line: $(cat /proc/cmdline)"
show "dom0 booted with xen_scrub_pages=0"
sh /tests/hooks/initramfs-tools/scripts/init-top/xen-scrub-pages
show "after the initramfs hook"
start=$(cur_kb)
balloon_to $((start - 262144)) 120 && show "dom0 ballooned down 256 MiB"
balloon_to "$start" 120 && show "dom0 ballooned back up"
expect demo-dom0-balloon "$(cur_kb)" "$start"
if toolstack_up && domu_start demo 256 512; then
	pass demo-domu-start
	xl list
	xl mem-set demo 160m
	wait_until 60 domu_mem_near demo 160
	echo "--- after xl mem-set demo 160m"
	xl list
	expect demo-domu-mem-set "$(near "$(domu_mem demo)" 160 4 && echo ok)" ok
	echo "--- the domU's console:"
	sed 's/^/    /' /var/log/xen/console/guest-demo.log | grep -v '^    $' | tail -5
	timeout 120 xl shutdown -w demo >/dev/null 2>&1
	expect demo-domu-shutdown "$(xl list demo >/dev/null 2>&1 && echo running || echo gone)" gone
else
	fail demo-domu-start "$(tail -3 /tmp/xl-create-demo.log)"
fi

# An HVM domU with 256 MiB of its 1 GiB and Qubes' settings (init_on_alloc=1
# init_on_free=1 xen_scrub_pages=0): what it gave back before anything touched
# it, what its balloon skipped zeroing, and when its user space started.
C=/var/log/xen/console/guest-hvmdemo.log
if domu_start hvmdemo 256 1024 "init_on_alloc=1 init_on_free=1 xen_scrub_pages=0 xenrig.role=memwatch" hvm; then
	pass demo-hvm-start
	wait_until 60 domu_mem_near hvmdemo 256
	sleep 2
	line() { tr -d '\r' < $C | grep "$1" | tail -1; }
	early=$(line XENRIG-DOMU-EARLY | sed 's/.*released_early=//')
	echo "--- the HVM domU (memory 256 MiB, maxmem 1024 MiB), from inside:"
	echo "    $(line 'xen: released' | sed 's/^\[[ 0-9.]*\] //')"
	echo "    stats/released_early: ${early:-?} pages ($((${early:-0} / 256)) MiB handed back untouched at boot)"
	echo "    stats after the boot: $(line XENRIG-DOMU-STATS | sed 's/XENRIG-DOMU-STATS //')"
	echo "    (out: pages the balloon gave Xen after the boot, zeroing_skipped: of those, how many"
	echo "    left without the zeroing init_on_alloc would have done; in: pages taken back, the"
	echo "    slack; init_on_free cleared only the memory the guest kept)"
	echo "    user space started at $(line 'Run /init' | sed 's/^\[ *\([0-9.]*\)\].*/\1/') s of guest time"
	echo "    balloon: $(line XENRIG-DOMU-MEM | sed 's/XENRIG-DOMU-MEM //'); Xen's view: $(domu_mem hvmdemo) MiB"
	expect demo-hvm-at-target "$(near "$(domu_mem hvmdemo)" 256 4 && echo ok)" ok
	xl destroy hvmdemo
else
	fail demo-hvm-start "$(tail -3 $C)"
fi
