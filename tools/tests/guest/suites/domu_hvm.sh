# SPDX-License-Identifier: GPL-2.0
# An HVM domU (Debian's device model, direct kernel boot) booted with memory
# < maxmem (populate-on-demand).
C=/var/log/xen/console/guest-hvm1.log
toolstack_up
date
if domu_start hvm1 256 1024 "xenrig.role=memwatch" hvm; then
	pass domu-hvm-boot
else
	fail domu-hvm-boot "$(tail -5 $C 2>/dev/null) $(tail -3 /tmp/xl-create-hvm1.log)"
fi
date
sleep 20
xl list
grep -a -n "released\|balloon\|Run /init\|Memory:\|BUG\|WARN\|PoD\|auto-init\|XENRIG" $C
tail -30 $C
