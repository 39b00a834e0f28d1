// SPDX-License-Identifier: GPL-2.0
/*
 * xgshr: the sharing side of the libxengnttab test, run in a domU. It uses
 * only Xen's libraries (xengntshr_* of libxengnttab, libxenevtchn), as the
 * Qubes GUI agent does.
 *
 *   xgshr [-n PAGES] [-t TIMEOUT_S]
 *
 * 1. Binds an unbound event channel for dom0, shares PAGES pages (default
 *    16) writable with dom0 in one xengntshr_share_pages() call and one more
 *    page with xengntshr_share_page_notify() (clear byte NOTIFY_OFFSET, send
 *    an event on that channel), fills them with pattern A and sets the
 *    notify byte to 0xaa; prints "refs ...", "notify REF PORT", "ready".
 * 2. Waits until dom0 has written pattern B and the mailbox word (xgmap),
 *    checks B: "peer_writes ok|bad".
 * 3. Unshares every page while dom0 still maps them, prints
 *    "unshared pending=N" (the grant table's deferred entries, -1 without
 *    the Rust stats), then waits until dom0 has unmapped and the pending
 *    count is back where it was before sharing: "reclaimed PENDING
 *    DEFERRED_DELTA RECLAIMED_DELTA LEAKED FREE_DELTA_KB", then "done".
 * Lines start with "XENRIG-XG ". Errors: "XENRIG-XG error STEP".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <xenevtchn.h>
#include <xengnttab.h>

#include "freemem.h"
#include "xg.h"

int main(int argc, char **argv)
{
	uint32_t refs[1024], nref;
	int n = 16, timeout = 300, o, bad = 0;
	long pend0, def0, rec0, free0, pend;
	xenevtchn_port_or_error_t port;
	xenevtchn_handle *xce;
	xengntshr_handle *xgs;
	uint32_t *pages;
	uint8_t *npage;
	time_t end;

	while ((o = getopt(argc, argv, "n:t:")) != -1) {
		if (o == 'n')
			n = atoi(optarg);
		else if (o == 't')
			timeout = atoi(optarg);
		else
			return 2;
	}
	if (n < 1 || n > 1024)
		return 2;
	pend0 = stat_of("pending");
	def0 = stat_of("deferred");
	rec0 = stat_of("reclaimed");
	free0 = free_kb();

	xce = xenevtchn_open(NULL, 0);
	xgs = xengntshr_open(NULL, 0);
	if (!xce || !xgs)
		return xg_die("open");
	port = xenevtchn_bind_unbound_port(xce, 0);
	if (port < 0)
		return xg_die("bind_unbound_port");
	pages = xengntshr_share_pages(xgs, 0, n, refs, 1);
	if (!pages)
		return xg_die("share_pages");
	npage = xengntshr_share_page_notify(xgs, 0, &nref, 1, NOTIFY_OFFSET, port);
	if (!npage)
		return xg_die("share_page_notify");
	xg_fill(pages, n, PATTERN_A);
	npage[NOTIFY_OFFSET] = 0xaa;
	printf("XENRIG-XG refs");
	for (int i = 0; i < n; i++)
		printf(" %u", refs[i]);
	printf("\nXENRIG-XG notify %u %d\nXENRIG-XG ready\n", nref, port);
	fflush(stdout);

	end = time(NULL) + timeout;
	while (__atomic_load_n(&pages[0], __ATOMIC_ACQUIRE) != MAILBOX_WROTE) {
		if (time(NULL) > end)
			return xg_die("wait_for_peer");
		usleep(20000);
	}
	bad = xg_check(pages, n, PATTERN_B);
	xg_say("peer_writes", bad ? "bad" : "ok");

	if (xengntshr_unshare(xgs, pages, n) || xengntshr_unshare(xgs, npage, 1))
		return xg_die("unshare");
	pend = stat_of("pending");
	printf("XENRIG-XG unshared pending=%ld\n", pend0 < 0 ? -1 : pend - pend0);
	fflush(stdout);
	while (pend0 >= 0 && stat_of("pending") != pend0) {
		if (time(NULL) > end)
			return xg_die("wait_for_reclaim");
		usleep(100000);
	}
	sleep(1);
	printf("XENRIG-XG reclaimed %ld %ld %ld %ld %ld\n", stat_of("pending"),
	       stat_of("deferred") - def0, stat_of("reclaimed") - rec0,
	       stat_of("leaked"), free_kb() - free0);
	xengntshr_close(xgs);
	xenevtchn_close(xce);
	xg_say("done", "");
	return 0;
}
