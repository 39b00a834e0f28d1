# SPDX-License-Identifier: GPL-2.0
# A PVH domU booted with memory < maxmem (populate-on-demand): it boots,
# finishes its initial balloon-down, follows xl mem-set and shuts down.
# Maxmem is 2 GiB: a driver that is done before the boot reaches its wait
# (balloon_wait_finish()) logs neither line, and the Rust balloon gives back
# 1 GiB in well under a second.

C=/var/log/xen/console/guest-pvh1.log
if toolstack_up && domu_start pvh1 256 2048 "" pvh; then
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
		wait_until 30 domu_gone pvh1; then
		pass domu-pvh-shutdown
	else
		fail domu-pvh-shutdown "pvh1 still listed: $(xl list 2>&1 | tail -n +2)"
	fi
else
	fail domu-pvh-boot "$(tail -5 $C 2>/dev/null) $(tail -3 /tmp/xl-create-pvh1.log)"
fi
echo "--- pvh1 console (last lines):"
tail -15 $C 2>/dev/null | sed 's/^/    /'

# The skip-zero path, seen from inside a PVH guest: with init_on_alloc=1 and
# xen_scrub_pages=0, every page of the initial balloon-down leaves without
# being zeroed (the Rust balloon counts them in stats/zeroing_skipped) and
# none is scrubbed. The memwatch role prints the guest's counters.
C2=/var/log/xen/console/guest-pvh2.log
# Only complete lines (the console log grows while the guest writes).
stats() { tr -d '\r' < $C2 | sed -n 's/.*XENRIG-DOMU-STATS \(out=[0-9]* in=[0-9]* scrubbed=[0-9]* zeroing_skipped=[0-9]*\)$/\1/p' | tail -1; }
stat_of() { echo "$snap" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
settled() { a=$(stats); sleep 1; [ -n "$a" ] && [ "$a" = "$(stats)" ]; }
# The counters are printed once user space runs, after the boot's wait for
# the initial balloon-down (skipped when it was over before).
down_done() { [ -n "$(stats)" ]; }
if [ "$(cat /etc/xenrig-variant)" = rust ]; then
	if domu_start pvh2 256 1024 "init_on_alloc=1 xen_scrub_pages=0 xenrig.role=memwatch" pvh &&
		wait_until 60 down_done; then
		# The counters are printed a moment after the last line; let them settle.
		wait_until 20 settled
		snap=$(stats)
		out=$(stat_of out) skipped=$(stat_of zeroing_skipped) scrubbed=$(stat_of scrubbed)
		echo "domu-pvh: pvh2 counters after the initial balloon-down: $snap"
		# memory 256 of maxmem 1024 MiB: about 768 MiB (196608 pages) go back.
		if [ "${out:-0}" -ge 150000 ]; then
			pass domu-pvh-stats-ballooned-out
		else
			fail domu-pvh-stats-ballooned-out "ballooned_out=$out, want >= 150000 pages"
		fi
		expect domu-pvh-zeroing-skipped-equals-ballooned-out "$skipped" "$out"
		expect domu-pvh-scrub-off-nothing-scrubbed "$scrubbed" 0
	else
		fail domu-pvh-stats-ballooned-out "pvh2 did not finish its balloon-down: $(tail -3 $C2)"
	fi
	xl destroy pvh2 2>/dev/null
fi
