// SPDX-License-Identifier: GPL-2.0
/*
 * xwrite: write to a file with one write(2) and report the outcome, for
 * tests of sysfs stores.
 *
 *   xwrite [-u UID] PATH DATA     write DATA (no newline added)
 *   xwrite [-u UID] -j N PATH     write N bytes of junk ('x')
 *   xwrite [-u UID] -z PATH       write zero bytes
 *
 * -u drops to that uid and gid (and every capability) before opening.
 * Prints "ok N" (bytes written) or the errno name (EINVAL, EACCES, ...);
 * exits 0 on success, 1 on a failed open or write, 2 on bad usage.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int report(const char *what)
{
	const char *name = strerrorname_np(errno);

	printf("%s\n", name ? name : what);
	return 1;
}

int main(int argc, char **argv)
{
	long junk = -1;
	int zero = 0, opt, fd;
	const char *data = NULL;
	char *buf;
	size_t len;
	ssize_t n;

	while ((opt = getopt(argc, argv, "u:j:z")) != -1) {
		switch (opt) {
		case 'u': {
			uid_t uid = strtoul(optarg, NULL, 10);

			if (setgroups(0, NULL) || setgid(uid) || setuid(uid))
				return report("setuid");
			break;
		}
		case 'j':
			junk = strtol(optarg, NULL, 10);
			break;
		case 'z':
			zero = 1;
			break;
		default:
			return 2;
		}
	}
	if (optind >= argc || (junk < 0 && !zero && optind + 1 >= argc))
		return 2;
	if (junk >= 0) {
		len = junk;
		buf = malloc(len + 1);
		if (!buf)
			return 2;
		memset(buf, 'x', len);
	} else if (zero) {
		buf = "";
		len = 0;
	} else {
		data = argv[optind + 1];
		buf = (char *)data;
		len = strlen(data);
	}
	fd = open(argv[optind], O_WRONLY);
	if (fd < 0)
		return report("open");
	n = write(fd, buf, len);
	if (n < 0)
		return report("write");
	printf("ok %zd\n", n);
	return 0;
}
