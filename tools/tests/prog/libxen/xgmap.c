// SPDX-License-Identifier: GPL-2.0
/*
 * xgmap: the mapping side of the libxengnttab test, run in dom0, with
 * libxengnttab's xengnttab_* and libxenevtchn only.
 *
 *   xgmap -d DOMID -N NOTIFY_REF -p PORT REF...
 *
 * Binds to the domU's event channel PORT, maps the REFs in one
 * xengnttab_map_domain_grant_refs() call and NOTIFY_REF on its own, checks
 * pattern A ("sharer_pattern=ok|bad") and the notify byte (0xaa), writes
 * pattern B and the mailbox word ("wrote"), then waits up to 120 s for the
 * unmap notification: the event ("event=ok|timeout") and the cleared byte
 * ("clear_byte=ok|bad"); the pages keep what it wrote
 * ("kept_after_unshare=ok|bad"). It unmaps when a line "unmap" arrives on
 * stdin ("unmapped").
 */
#define _GNU_SOURCE
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <xenevtchn.h>
#include <xengnttab.h>

#include "xg.h"

int main(int argc, char **argv)
{
	uint32_t domid = 0, nref = 0, port = 0, refs[1024];
	xenevtchn_port_or_error_t local;
	int n = 0, o, got_event = 0;
	xengnttab_handle *xgt;
	xenevtchn_handle *xce;
	volatile uint8_t *npage;
	uint32_t *pages;
	char line[64];

	while ((o = getopt(argc, argv, "d:N:p:")) != -1) {
		if (o == 'd')
			domid = strtoul(optarg, NULL, 0);
		else if (o == 'N')
			nref = strtoul(optarg, NULL, 0);
		else if (o == 'p')
			port = strtoul(optarg, NULL, 0);
		else
			return 2;
	}
	for (; optind < argc && n < 1024; optind++)
		refs[n++] = strtoul(argv[optind], NULL, 0);
	if (!domid || !n)
		return 2;
	xgt = xengnttab_open(NULL, 0);
	xce = xenevtchn_open(NULL, 0);
	if (!xgt || !xce)
		return xg_die("open");
	local = xenevtchn_bind_interdomain(xce, domid, port);
	if (local < 0)
		return xg_die("bind_interdomain");
	pages = xengnttab_map_domain_grant_refs(xgt, n, domid, refs,
						PROT_READ | PROT_WRITE);
	npage = xengnttab_map_grant_ref(xgt, domid, nref, PROT_READ | PROT_WRITE);
	if (!pages || !npage)
		return xg_die("map");
	printf("mapped %d pages\n", n);
	printf("sharer_pattern=%s\n", xg_check(pages, n, PATTERN_A) ? "bad" : "ok");
	printf("notify_byte=%#x\n", npage[NOTIFY_OFFSET]);
	/*
	 * Binding an interdomain channel marks it pending (Xen does so in case
	 * the other end signalled first): take that event before the domU can
	 * send the notification, which it does only after the mailbox word.
	 */
	for (;;) {
		struct pollfd p = { .fd = xenevtchn_fd(xce), .events = POLLIN };
		xenevtchn_port_or_error_t e;

		if (poll(&p, 1, 200) != 1)
			break;
		e = xenevtchn_pending(xce);
		if (e < 0)
			break;
		xenevtchn_unmask(xce, e);
	}
	xg_fill(pages, n, PATTERN_B);
	__atomic_store_n(&pages[0], MAILBOX_WROTE, __ATOMIC_RELEASE);
	printf("wrote\n");
	fflush(stdout);

	for (int waited = 0; !got_event && waited < 120; waited++) {
		struct pollfd p = { .fd = xenevtchn_fd(xce), .events = POLLIN };

		if (poll(&p, 1, 1000) == 1) {
			xenevtchn_port_or_error_t e = xenevtchn_pending(xce);

			if (e == local)
				got_event = 1;
			if (e >= 0)
				xenevtchn_unmask(xce, e);
		}
	}
	printf("event=%s\n", got_event ? "ok" : "timeout");
	printf("clear_byte=%s\n", npage[NOTIFY_OFFSET] == 0 ? "ok" : "bad");
	printf("kept_after_unshare=%s\n", xg_check(pages, n, PATTERN_B) ? "bad" : "ok");
	fflush(stdout);
	while (fgets(line, sizeof(line), stdin))
		if (!strncmp(line, "unmap", 5))
			break;
	if (xengnttab_unmap(xgt, pages, n) || xengnttab_unmap(xgt, (void *)npage, 1))
		return xg_die("unmap");
	xengnttab_close(xgt);
	xenevtchn_close(xce);
	printf("unmapped\n");
	return 0;
}
