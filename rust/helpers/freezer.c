// SPDX-License-Identifier: GPL-2.0

#include <linux/freezer.h>

void rust_helper_set_freezable(void)
{
	set_freezable();
}

bool rust_helper_try_to_freeze(void)
{
	return try_to_freeze();
}
