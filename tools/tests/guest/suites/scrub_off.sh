# SPDX-License-Identifier: GPL-2.0
# Booted with xen_scrub_pages=off: another kstrtobool spelling.
expect scrub-boot-param-off "$(cat $M/scrub_pages)" 0

# The variant really runs its own implementation: scrub.rs exports
# xenmem_reservation_scrub_page(); in C it is an inline in the header.
if grep -q ' T xenmem_reservation_scrub_page$' /proc/kallsyms; then impl=rust; else impl=c; fi
want=$(drivers)
expect scrub-implementation-is-$want "$impl" "$want"
