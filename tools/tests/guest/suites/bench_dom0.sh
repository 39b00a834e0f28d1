# SPDX-License-Identifier: GPL-2.0
# Benchmark: runtime balloon-down (and up) of 512 MiB in dom0, scrubbing on
# and off, alternated; xenrig.reps= repeats. init_on_alloc comes from the
# command line the host chose. Prints "XENRIG-BENCH key value" lines.
reps=$(sed -n 's/.*xenrig\.reps=\([0-9]*\).*/\1/p' /proc/cmdline)
ioa=$(sed -n 's/.*init_on_alloc=\([01]\).*/\1/p' /proc/cmdline)
for r in $(seq "${reps:-3}"); do
	for s in 1 0; do
		echo $s > $M/scrub_pages
		out=$(balloontime 524288 120)
		down=$(echo "$out" | awk '$1 == "down" { print $3 }')
		up=$(echo "$out" | awk '$1 == "up" { print $3 }')
		if [ -n "$down" ] && [ -n "$up" ]; then
			echo "XENRIG-BENCH dom0-down-512M-MBps/init_on_alloc=${ioa:-1},scrub=$s $down"
			echo "XENRIG-BENCH dom0-up-512M-MBps/init_on_alloc=${ioa:-1},scrub=$s $up"
		else
			fail bench-dom0-balloon "$out"
		fi
	done
done
echo 1 > $M/scrub_pages
pass bench-dom0-done
