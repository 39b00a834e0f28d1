// SPDX-License-Identifier: GPL-2.0

#include <linux/mm.h>
#include <xen/events.h>

void rust_helper_notify_remote_via_evtchn(evtchn_port_t port)
{
	notify_remote_via_evtchn(port);
}

void rust_helper_vm_flags_set(struct vm_area_struct *vma, vm_flags_t flags)
{
	vm_flags_set(vma, flags);
}
