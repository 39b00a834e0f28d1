#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# dracut module: turn Xen page scrubbing on once the initial balloon-down is
# over. Install into /usr/lib/dracut/modules.d/90xen-scrub-pages/.

check() {
	return 0
}

depends() {
	return 0
}

install() {
	# pre-trigger runs after every built-in initcall, so after the balloon
	# driver's wait for the initial balloon-down, and before udev starts
	# the devices that could see secrets.
	inst_hook pre-trigger 10 "$moddir/xen-scrub-pages.sh"
}
