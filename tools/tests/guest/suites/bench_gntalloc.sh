# SPDX-License-Identifier: GPL-2.0
# Benchmark: pages shared and unshared per second through libxengnttab
# (xengntshr_share_pages + xengntshr_unshare on /dev/xen/gntalloc), batches
# of 1, 16 and 256 pages. Nobody maps them, so each grant ends at once; the
# grant table must have every entry back afterwards. Also grants created
# and ended per second through gntalloc's ioctls, 64 per call (gntops, the
# grant bench's grant-end-ops-per-s). xenrig.reps= repeats. Prints
# "XENRIG-BENCH key value" lines.
reps=$(sed -n 's/.*xenrig\.reps=\([0-9]*\).*/\1/p' /proc/cmdline)
S=/sys/module/grant_table/stats
used_entries() { awk '{ print $1 - $2 }' $S/entries 2>/dev/null; }
entries0=$(used_entries)
for r in $(seq "${reps:-2}"); do
	for b in 1 16 256; do
		out=$(xgbench -b $b -t 5 2>&1)
		if [ "$(echo "$out" | tail -1)" = "xgbench: ok" ]; then
			echo "XENRIG-BENCH gntalloc-share-unshare-pages-per-s/batch=$b" \
				"$(echo "$out" | sed -n 's/^pages_per_s=//p')"
		else
			fail bench-gntalloc-batch-$b "$out"
		fi
	done
	out=$(gntops -b 64 -t 5 2>&1)
	if [ "$(echo "$out" | tail -1)" = "gntops: ok" ]; then
		echo "XENRIG-BENCH grant-end-ops-per-s $(echo "$out" | sed -n 's/^ops_per_s=//p')"
		# Where the time goes: microseconds per grant in each ioctl.
		for k in alloc dealloc; do
			echo "XENRIG-BENCH grant-end-ops-$k-us $(echo "$out" |
				awk -F= -v k=${k}_ns '$1 == k { printf "%.3f", $2 / 1000 }')"
		done
	else
		fail bench-gntalloc-gntops "$out"
	fi
done
if [ -n "$entries0" ]; then
	expect bench-gntalloc-no-grant-left "$(used_entries) $(cat $S/pending)" "$entries0 0"
fi
pass bench-gntalloc-done
