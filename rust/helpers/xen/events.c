// SPDX-License-Identifier: GPL-2.0

#ifdef CONFIG_XEN
#include <xen/events.h>

void rust_helper_notify_remote_via_evtchn(evtchn_port_t port)
{
	notify_remote_via_evtchn(port);
}
#endif
