# SPDX-License-Identifier: GPL-2.0
# Booted with xen_scrub_pages=off: another kstrtobool spelling.
expect scrub-boot-param-off "$(cat $M/scrub_pages)" 0

# The variant really runs its own implementation: scrub.rs exports
# xenmem_reservation_scrub_page(); in C it is an inline in the header.
if grep -q ' T xenmem_reservation_scrub_page$' /proc/kallsyms; then impl=rust; else impl=c; fi
expect scrub-implementation-is-$(cat /etc/xenrig-variant) "$impl" "$(cat /etc/xenrig-variant)"
