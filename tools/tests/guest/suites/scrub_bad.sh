# SPDX-License-Identifier: GPL-2.0
# Booted with xen_scrub_pages=maybe: the kernel rejects the value, logs it
# and keeps the CONFIG_XEN_SCRUB_PAGES_DEFAULT value (y in the rig).
expect scrub-boot-param-invalid-keeps-default "$(cat $M/scrub_pages)" 1
if dmesg | grep -q "\`maybe' invalid for parameter \`xen_scrub_pages'"; then
	pass scrub-boot-param-invalid-logged
else
	fail scrub-boot-param-invalid-logged "no 'invalid for parameter' line in dmesg"
fi
