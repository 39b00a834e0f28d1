// SPDX-License-Identifier: GPL-2.0
/*
 * capdrop: run a command as root but without CAP_SYS_ADMIN, for tests of
 * capable(CAP_SYS_ADMIN) checks that file permissions alone do not reach.
 *
 *   capdrop COMMAND [ARGS...]
 *
 * Drops CAP_SYS_ADMIN from the bounding set (so execve() cannot give it back
 * to uid 0) and from the effective, permitted and inheritable sets, then
 * execs COMMAND with the same uid. Exits 1 if a step fails, 2 on bad usage.
 */
#include <linux/capability.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
	unsigned int i = CAP_TO_INDEX(CAP_SYS_ADMIN);
	unsigned int bit = CAP_TO_MASK(CAP_SYS_ADMIN);

	if (argc < 2)
		return 2;
	if (prctl(PR_CAPBSET_DROP, CAP_SYS_ADMIN, 0, 0, 0)) {
		perror("capdrop: PR_CAPBSET_DROP");
		return 1;
	}
	if (syscall(SYS_capget, &hdr, data)) {
		perror("capdrop: capget");
		return 1;
	}
	data[i].effective &= ~bit;
	data[i].permitted &= ~bit;
	data[i].inheritable &= ~bit;
	if (syscall(SYS_capset, &hdr, data)) {
		perror("capdrop: capset");
		return 1;
	}
	execvp(argv[1], argv + 1);
	perror("capdrop: exec");
	return 1;
}
