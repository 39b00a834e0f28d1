# SPDX-License-Identifier: GPL-2.0
# Benchmark: the initial balloon-down of a PVH domU (memory 256 MiB, maxmem
# 2 GiB, populate-on-demand, xen_scrub_pages=0), with init_on_alloc on and
# off, alternated; xenrig.reps= repeats. The time is the guest's own, between
# its two "initial ballooning down" log lines: how long the boot waits for the
# balloon-down, which starts when the driver initialises (0 when it was over
# before the boot reached the wait, which then logs neither line). Next to it
# the guest time at which its user space starts (the kernel's "Run /init"
# line): the boot cannot get there before the balloon-down is over, so this
# is what a user waits for, zeroing done by the rest of the boot included.
reps=$(sed -n 's/.*xenrig\.reps=\([0-9]*\).*/\1/p' /proc/cmdline)
C=/var/log/xen/console/guest-bench.log
stamp() { sed -n "s/^\[ *\([0-9.]*\)\] xen:balloon: $1.*/\1/p" $C | tail -1; }
init_stamp() { sed -n 's/^\[ *\([0-9.]*\)\] Run \/init as init process.*/\1/p' $C | tail -1; }
toolstack_up || fail bench-pvh-toolstack "toolstack did not start"
for r in $(seq "${reps:-2}"); do
	for ioa in 1 0; do
		if domu_start bench 256 2048 "init_on_alloc=$ioa xen_scrub_pages=0" pvh; then
			t0=$(stamp "Waiting for initial ballooning down")
			t1=$(stamp "Initial ballooning down finished")
			if [ -n "$t0" ] && [ -n "$t1" ]; then
				echo "XENRIG-BENCH pvh-initial-balloon-down-s/init_on_alloc=$ioa $(awk "BEGIN { print $t1 - $t0 }")"
			elif ! grep -q "xen:balloon: Waiting for initial" $C; then
				# Done before the boot reached its wait: the boot waited 0 s.
				echo "XENRIG-BENCH pvh-initial-balloon-down-s/init_on_alloc=$ioa 0"
			else
				fail bench-pvh-initial "no balloon lines: $(grep balloon $C | tail -2)"
			fi
			t=$(init_stamp)
			if [ -n "$t" ]; then
				echo "XENRIG-BENCH pvh-boot-to-init-s/init_on_alloc=$ioa $t"
			else
				fail bench-pvh-init "no 'Run /init' line: $(tail -2 $C)"
			fi
		else
			fail bench-pvh-boot "$(tail -3 $C)"
		fi
		xl destroy bench 2>/dev/null
		wait_until 30 sh -c '! xl list bench >/dev/null 2>&1'
	done
done
pass bench-pvh-done
