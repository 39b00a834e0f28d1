# SPDX-License-Identifier: GPL-2.0
# Booted with xen_scrub_pages=off: another kstrtobool spelling.
expect scrub-boot-param-off "$(cat $M/scrub_pages)" 0
