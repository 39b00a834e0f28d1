# SPDX-License-Identifier: GPL-2.0
# domU role: once the initial balloon-down is over (current_kb reached
# target_kb), write and read back a pattern over most of the free memory
# (memfill) and print "XENRIG-DOMU-MEMCHECK ok" or "... BAD <what>". With
# xenrig.grantfaults=1 on the command line and the fault attribute
# fail_grant_op (debug kernel), gntdev then maps and
# copies pages this domain shares with itself through gntalloc while grant
# operations answer GNTST_eagain, then GNTST_general_error
# (grantfaults.sh), and prints "XENRIG-DOMU-GRANTFAULTS eagain|error
# <result>" and "XENRIG-DOMU-GRANTFAULTS after <gntloop's last line>
# used=<before>,<after> deferred=<before>,<after>". Then it reports like
# the memwatch role.
B=/sys/devices/system/xen_memory/xen_memory0
i=0
while [ "$(cat $B/info/current_kb)" != "$(cat $B/target_kb)" ] && [ $i -lt 600 ]; do
	sleep 0.5
	i=$((i + 1))
done
# gntdev's DMA buffers (gnttab_dma_alloc_pages(), gnttab_dma_free_pages())
# while Xen takes or gives back only part of their frames (the fault
# attributes fail_gnttab_dma_decrease and fail_gnttab_dma_increase, debug
# kernel), before the pattern below checks that no free page lacks memory.
# dom0 reads Xen's page count of this domain before and after: the guest
# says "XENRIG-DOMU-DMABUF ready" and waits for xenstore's data/dma to say
# "go", prints what gntdma saw, writes "done" there and waits for "checked".
# "XENRIG-DOMU-DMABUF none" when the kernel has no such attributes.
D=/sys/kernel/debug
mount -t debugfs debugfs $D 2>/dev/null
if [ -d $D/fail_gnttab_dma_decrease ] && [ -e /dev/xen/gntdev ]; then
	dma_wait() {
		local w=0
		while [ "$(xenstore-read data/dma 2>/dev/null)" != "$1" ]; do
			[ $w -ge 1200 ] && return 1
			sleep 0.5
			w=$((w + 1))
		done
	}
	# dma_faults ATTR TIMES RUNS: gntdma while ATTR fires on the next TIMES
	# calls; prints gntdma's line and fired=N.
	dma_faults() {
		local a=$D/$1
		echo 0 > $a/verbose
		echo 1 > $a/interval
		echo "$2" > $a/times
		echo 100 > $a/probability
		out=$(gntdma -n 16 -r "$3" 2>&1 | tail -1)
		echo 0 > $a/probability
		echo "$out fired=$(($2 - $(cat $a/times)))"
	}
	echo "XENRIG-DOMU-DMABUF ready"
	if dma_wait go; then
		echo "XENRIG-DOMU-DMABUF plain $(gntdma -n 16 -r 4 2>&1 | tail -1)"
		echo "XENRIG-DOMU-DMABUF decrease $(dma_faults fail_gnttab_dma_decrease 6 6)"
		echo "XENRIG-DOMU-DMABUF increase $(dma_faults fail_gnttab_dma_increase 2 2)"
		echo "XENRIG-DOMU-DMABUF after $(gntdma -n 16 -r 2 2>&1 | tail -1)"
		xenstore-write data/dma done
		dma_wait checked
	fi
else
	echo "XENRIG-DOMU-DMABUF none"
fi
avail=$(awk '$1 == "MemAvailable:" { print int($2 / 1024) }' /proc/meminfo)
out=$(memfill $((avail * 3 / 4)) 2>&1)
case $out in
*" ok") echo "XENRIG-DOMU-MEMCHECK ok $out" ;;
*) echo "XENRIG-DOMU-MEMCHECK BAD $out" ;;
esac
if grep -q xenrig.grantfaults=1 /proc/cmdline &&
	[ -d /sys/kernel/debug/fail_grant_op ]; then
	. /tests/grantfaults.sh
	GS=/sys/module/grant_table/stats
	me=$(xenstore-read domid)
	used0=$(awk '{ print $1 - $2 }' $GS/entries) def0=$(cat $GS/deferred)
	echo "XENRIG-DOMU-GRANTFAULTS eagain $(grant_fault_runs 12 4 "$me" 32)"
	echo "XENRIG-DOMU-GRANTFAULTS error $(grant_fault_runs 1 6 "$me" 32)"
	last=$(gntloop -n 32 -c -d "$me" 2>&1 | tail -1)
	sleep 1
	echo "XENRIG-DOMU-GRANTFAULTS after $last used=$used0,$(awk '{ print $1 - $2 }' $GS/entries) deferred=$def0,$(cat $GS/deferred)"
fi
. /tests/roles/memwatch.sh
