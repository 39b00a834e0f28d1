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
avail=$(awk '$1 == "MemAvailable:" { print int($2 / 1024) }' /proc/meminfo)
out=$(memfill $((avail * 3 / 4)) 2>&1)
case $out in
*" ok") echo "XENRIG-DOMU-MEMCHECK ok $out" ;;
*) echo "XENRIG-DOMU-MEMCHECK BAD $out" ;;
esac
if grep -q xenrig.grantfaults=1 /proc/cmdline &&
	mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null &&
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
