# SPDX-License-Identifier: GPL-2.0
# Booted with xen_scrub_pages=0 (the Qubes OS VM command line): the switch,
# the initramfs hooks, bad writes, dom0 ballooning and a PV domU.

S=$M/scrub_pages
expect scrub-boot-param-0 "$(cat $S)" 0
expect scrub-sysfs-mode-0644 "$(stat -c %a $S)" 644

# The Qubes flow: each initramfs framework's hook turns scrubbing on.
H=/tests/hooks
sh $H/initramfs-tools/scripts/init-top/xen-scrub-pages
expect qubes-hook-initramfs-tools "$(cat $S)" 1
echo 0 > $S
sh -c ". $H/dracut/90xen-scrub-pages/xen-scrub-pages.sh"
expect qubes-hook-dracut "$(cat $S)" 1
echo 0 > $S
sh -c ". $H/initcpio/hooks/xen-scrub-pages; run_hook"
expect qubes-hook-initcpio "$(cat $S)" 1
# The hooks do nothing, and fail nothing, where there is no balloon device.
out=$(sh -c "M=/nonexistent; . $H/dracut/90xen-scrub-pages/xen-scrub-pages.sh; echo rc=\$?" 2>&1)
expect qubes-hook-no-device "$out" "rc=0"

# Every spelling a kernel bool accepts.
for w in "y 1" "n 0" "Y 1" "N 0" "1 1" "0 0" "on 1" "off 0" "true 1" \
	"false 0" "yes 1" "no 0"; do
	set -- $w
	echo "$1" > $S
	expect "scrub-write-$1" "$(cat $S)" "$2"
done

# Bad writes fail with EINVAL and change nothing, from either value.
for v in 0 1; do
	echo $v > $S
	for bad in 2 maybe; do
		expect "scrub-bad-write-$bad-keeps-$v" "$(xwrite $S "$bad"):$(cat $S)" "EINVAL:$v"
	done
	expect "scrub-bad-write-empty-line-keeps-$v" "$(xwrite $S "
"):$(cat $S)" "EINVAL:$v"
	expect "scrub-bad-write-4k-junk-keeps-$v" "$(xwrite -j 4096 $S):$(cat $S)" "EINVAL:$v"
	expect "scrub-zero-length-write-keeps-$v" "$(xwrite -z $S):$(cat $S)" "ok 0:$v"
	expect "scrub-unprivileged-write-refused-$v" "$(xwrite -u 65534 $S $((1 - v))):$(cat $S)" "EACCES:$v"
done
expect scrub-unprivileged-read "$(su -s /bin/sh nobody -c "cat $S" 2>&1 || chpst -u nobody cat $S)" 1

# dom0 balloons down 128 MiB and back, with scrubbing on and off.
start=$(cur_kb)
for v in 1 0; do
	echo $v > $S
	if balloon_to $((start - 131072)) 120 && balloon_to "$start" 120; then
		expect "dom0-balloon-down-up-scrub-$v" "$(cur_kb)" "$start"
	else
		fail "dom0-balloon-down-up-scrub-$v" "current_kb $(cur_kb), started at $start, target $(cat $M/target_kb)"
	fi
done
echo 1 > $S

# A PV domU: xl create, xl mem-set down and up, clean shutdown.
if toolstack_up && domu_start guest1 256 512; then
	pass domu-pv-create
	xl mem-set guest1 128m
	if wait_until 60 domu_mem_near guest1 128; then
		pass domu-pv-mem-set-down
	else
		fail domu-pv-mem-set-down "xl list says $(domu_mem guest1) MiB, want 128"
	fi
	xl mem-set guest1 256m
	if wait_until 60 domu_mem_near guest1 256; then
		pass domu-pv-mem-set-up
	else
		fail domu-pv-mem-set-up "xl list says $(domu_mem guest1) MiB, want 256"
	fi
	if timeout 120 xl shutdown -w guest1 >/dev/null 2>&1 &&
		wait_until 30 domu_gone guest1; then
		pass domu-pv-shutdown
	else
		fail domu-pv-shutdown "guest1 still listed: $(xl list 2>&1 | tail -n +2)"
	fi
else
	fail domu-pv-create "$(cat /tmp/xl-create-guest1.log 2>/dev/null | tail -3)"
fi

# Once boot is done, the Qubes flow leaves scrubbing on.
expect qubes-flow-scrub-on-after-boot "$(cat $S)" 1
