# SPDX-License-Identifier: GPL-2.0
# domU role: share pages with dom0 through gntalloc and close first while
# dom0 still maps them (tools/tests/prog/gntshare.c); reports on the console.
gntshare -n 256 -H 96 -t 300
