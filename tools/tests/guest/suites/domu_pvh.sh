# SPDX-License-Identifier: GPL-2.0
# A PVH domU booted with memory < maxmem (populate-on-demand): it boots,
# finishes its initial balloon-down, follows xl mem-set and shuts down.

C=/var/log/xen/console/guest-pvh1.log
if toolstack_up && domu_start pvh1 256 1024 "" pvh; then
	pass domu-pvh-boot
	if grep -q "xen:balloon: Initial ballooning down finished." $C; then
		pass domu-pvh-initial-balloon-down-logged
	else
		fail domu-pvh-initial-balloon-down-logged "$(grep 'xen:balloon' $C | tail -2)"
	fi
	xl mem-set pvh1 192m
	if wait_until 90 domu_mem_near pvh1 192; then
		pass domu-pvh-mem-set-down
	else
		fail domu-pvh-mem-set-down "xl list says $(domu_mem pvh1) MiB, want 192"
	fi
	if timeout 120 xl shutdown -w pvh1 >/dev/null 2>&1 &&
		! xl list pvh1 >/dev/null 2>&1; then
		pass domu-pvh-shutdown
	else
		fail domu-pvh-shutdown "pvh1 still listed: $(xl list 2>&1 | tail -n +2)"
	fi
else
	fail domu-pvh-boot "$(tail -5 $C 2>/dev/null) $(tail -3 /tmp/xl-create-pvh1.log)"
fi
echo "--- pvh1 console (last lines):"
tail -15 $C 2>/dev/null | sed 's/^/    /'
