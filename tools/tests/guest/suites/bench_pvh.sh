# SPDX-License-Identifier: GPL-2.0
# Benchmark: the boot of a populate-on-demand domU, PVH (memory 256 MiB,
# maxmem 2 GiB) or HVM (xenrig.type=hvm: maxmem 1 GiB), xen_scrub_pages=0,
# with each combination of init_on_alloc and init_on_free, alternated;
# xenrig.reps= repeats. Two numbers per boot, both the guest's own clock:
# - initial-balloon-down-s: between its two "initial ballooning down" log
#   lines, how long the boot waits for the balloon-down, which starts when the
#   driver initialises (0 when it was over before the boot reached the wait,
#   which then logs neither line);
# - boot-to-init-s: when its user space starts (the kernel's "Run /init"
#   line). The boot cannot get there before the balloon-down is over, so this
#   is what a user waits for, clearing of memory by the rest of the boot
#   (init_on_free) included.
reps=$(sed -n 's/.*xenrig\.reps=\([0-9]*\).*/\1/p' /proc/cmdline)
type=$(sed -n 's/.*xenrig\.type=\([a-z]*\).*/\1/p' /proc/cmdline)
type=${type:-pvh}
max=2048
[ "$type" = hvm ] && max=1024
C=/var/log/xen/console/guest-bench.log
stamp() { tr -d '\r' < $C | sed -n "s/^\[ *\([0-9.]*\)\] xen:balloon: $1.*/\1/p" | tail -1; }
init_stamp() { tr -d '\r' < $C | sed -n 's/^\[ *\([0-9.]*\)\] Run \/init as init process.*/\1/p' | tail -1; }
toolstack_up || fail bench-$type-toolstack "toolstack did not start"
for r in $(seq "${reps:-2}"); do
	for opts in "1 0" "1 1" "0 0" "0 1"; do
		set -- $opts
		k="init_on_alloc=$1,init_on_free=$2"
		if domu_start bench 256 $max "init_on_alloc=$1 init_on_free=$2 xen_scrub_pages=0" $type; then
			t0=$(stamp "Waiting for initial ballooning down")
			t1=$(stamp "Initial ballooning down finished")
			if [ -n "$t0" ] && [ -n "$t1" ]; then
				echo "XENRIG-BENCH $type-initial-balloon-down-s/$k $(awk "BEGIN { print $t1 - $t0 }")"
			elif ! grep -q "xen:balloon: Waiting for initial" $C; then
				# Done before the boot reached its wait: the boot waited 0 s.
				echo "XENRIG-BENCH $type-initial-balloon-down-s/$k 0"
			else
				fail bench-$type-initial "no balloon lines: $(grep balloon $C | tail -2)"
			fi
			t=$(init_stamp)
			if [ -n "$t" ]; then
				echo "XENRIG-BENCH $type-boot-to-init-s/$k $t"
			else
				fail bench-$type-init "no 'Run /init' line: $(tail -2 $C)"
			fi
		else
			fail bench-$type-boot "$(tail -3 $C)"
		fi
		xl destroy bench 2>/dev/null
		wait_until 30 sh -c '! xl list bench >/dev/null 2>&1'
	done
done
pass bench-$type-done
