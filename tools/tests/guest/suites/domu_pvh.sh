# SPDX-License-Identifier: GPL-2.0
# A PVH domU booted with memory < maxmem (populate-on-demand): it boots,
# finishes its initial balloon-down, follows xl mem-set and shuts down.
# Maxmem is 2 GiB: a driver that is done before the boot reaches its wait
# (balloon_wait_finish()) logs neither line, and the Rust balloon gives back
# 1 GiB in well under a second.

C=/var/log/xen/console/guest-pvh1.log
if toolstack_up && domu_start pvh1 256 2048 "" pvh; then
	pass domu-pvh-boot
	if [ "$(drivers)" = c ]; then
		if grep -q "xen:balloon: Initial ballooning down finished." $C; then
			pass domu-pvh-initial-balloon-down-logged
		else
			fail domu-pvh-initial-balloon-down-logged "$(grep 'xen:balloon' $C | tail -2)"
		fi
	# With the Rust balloon the memory above the target went back to Xen at
	# boot (arch/x86/xen/enlighten_hvm.c): the boot has nothing to wait for.
	elif grep -q "xen: released [0-9]* MiB above the populate-on-demand target" $C &&
		! grep -q "Waiting for initial ballooning" $C; then
		pass domu-pvh-released-early-no-wait
	else
		fail domu-pvh-released-early-no-wait "$(grep -m1 -E 'xen: released' $C || echo 'no release line') / $(grep -E 'xen:balloon' $C | tail -3)"
	fi
	# A PVH guest maps its grant table into ballooned pages at core_initcall
	# time (xen_pvh_gnttab_setup()), before the balloon driver initialises.
	if grep -q "Grant table initialized" $C &&
		! grep -q -E "Couldn't balloon alloc|gnttab share frames is not mapped" $C; then
		pass domu-pvh-grant-table-early-balloon
	else
		fail domu-pvh-grant-table-early-balloon "$(grep -i -E 'grant|balloon alloc' $C | tail -3)"
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
echo "--- pvh1 console (grant table and balloon lines):"
grep -i -E 'grant|balloon|xen: released' $C 2>/dev/null | tail -8 | sed 's/^/    /'
echo "--- pvh1 console (last lines):"
tail -15 $C 2>/dev/null | sed 's/^/    /'

# The skip-zero path, seen from inside a PVH guest: with init_on_alloc=1 and
# xen_scrub_pages=0, every page of the initial balloon-down leaves without
# being zeroed (the Rust balloon counts them in stats/zeroing_skipped) and
# none is scrubbed. The memwatch role prints the guest's counters. The early
# release at boot is off here (xen_pod_release=0), so that the balloon
# driver has the whole excess to give back.
C2=/var/log/xen/console/guest-pvh2.log
# Only complete lines (the console log grows while the guest writes).
stats() { tr -d '\r' < $C2 | sed -n 's/.*XENRIG-DOMU-STATS \(out=[0-9]* in=[0-9]* scrubbed=[0-9]* zeroing_skipped=[0-9]*\)$/\1/p' | tail -1; }
stat_of() { echo "$snap" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
settled() { a=$(stats); sleep 1; [ -n "$a" ] && [ "$a" = "$(stats)" ]; }
# The counters are printed once user space runs, after the boot's wait for
# the initial balloon-down (skipped when it was over before).
down_done() { [ -n "$(stats)" ]; }
if [ "$(drivers)" = rust ]; then
	if domu_start pvh2 256 1024 "init_on_alloc=1 xen_scrub_pages=0 xen_pod_release=0 xenrig.role=memwatch" pvh &&
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

# Memory hotplug (CONFIG_XEN_BALLOON_MEMORY_HOTPLUG): a PVH domU booted with
# all of its memory (memory = maxmem = 256 MiB) has no ballooned pages to
# populate when its maximum and target are raised to 512 MiB; the balloon
# driver must add a memory resource above its RAM, have it onlined (here by
# memhp_default_state=online; distributions use a udev rule), and populate
# it. Both drivers do this on PVH guests. Then back down to 256 MiB.
C3=/var/log/xen/console/guest-pvh3.log
guest_kb() { tr -d '\r' < $C3 | sed -n 's/.*XENRIG-DOMU-MEM current_kb=\([0-9]*\) .*/\1/p' | tail -1; }
guest_kb_near() { near "$(guest_kb)" "$1" 4096; }
if domu_start pvh3 256 256 "memhp_default_state=online xenrig.role=memwatch" pvh; then
	wait_until 30 sh -c "grep -q XENRIG-DOMU-MEM $C3"
	k0=$(guest_kb)
	if xl mem-max pvh3 512m && xl mem-set pvh3 512m &&
		wait_until 120 domu_mem_near pvh3 512 && wait_until 30 guest_kb_near 524288; then
		pass domu-pvh-hotplug-grow
	else
		fail domu-pvh-hotplug-grow "xl list says $(domu_mem pvh3) MiB, the guest current_kb=$(guest_kb) (was $k0), want 512 MiB: $(grep -i -E 'hotplug|memory|balloon' $C3 | tail -3)"
	fi
	xl mem-set pvh3 256m
	if wait_until 90 domu_mem_near pvh3 256 && wait_until 30 guest_kb_near 262144; then
		pass domu-pvh-hotplug-back-down
	else
		fail domu-pvh-hotplug-back-down "xl list says $(domu_mem pvh3) MiB, the guest current_kb=$(guest_kb), want 256 MiB"
	fi
	expect domu-pvh-hotplug-no-oops "$(grep -c -E 'BUG:|WARNING:|Oops|Call Trace' $C3)" 0
	echo "--- pvh3 console (balloon and memory lines):"
	grep -i -E 'balloon|hotplug|System RAM' $C3 | tail -8 | sed 's/^/    /'
else
	fail domu-pvh-hotplug-grow "pvh3 did not boot: $(tail -3 $C3)"
fi
xl destroy pvh3 2>/dev/null
