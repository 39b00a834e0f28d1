# SPDX-License-Identifier: GPL-2.0
# The demo: dom0 booted with xen_scrub_pages=0, the Qubes hook turning
# scrubbing on, dom0 ballooning, and a PV domU ballooned with xl mem-set.

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
