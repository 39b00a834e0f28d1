// SPDX-License-Identifier: GPL-2.0
/*
 * xenpages: Xen's own count of a domain's memory.
 *
 *   xenpages DOMID
 *
 * Prints the pages Xen gives the domain (tot_pages, XEN_DOMCTL_getdomaininfo
 * through libxenctrl) in KiB, the unit of the balloon's current_kb. Exits 1
 * when the domain cannot be read, 2 on bad usage.
 */
#include <stdio.h>
#include <stdlib.h>
#include <xenctrl.h>

int main(int argc, char **argv)
{
	xc_interface *xch;
	xc_dominfo_t info;
	uint32_t domid;

	if (argc != 2)
		return 2;
	domid = strtoul(argv[1], NULL, 10);
	xch = xc_interface_open(NULL, NULL, 0);
	if (!xch) {
		perror("xenpages: xc_interface_open");
		return 1;
	}
	if (xc_domain_getinfo(xch, domid, 1, &info) != 1 || info.domid != domid) {
		fprintf(stderr, "xenpages: no domain %u\n", domid);
		return 1;
	}
	printf("%lu\n", info.nr_pages * 4);
	xc_interface_close(xch);
	return 0;
}
