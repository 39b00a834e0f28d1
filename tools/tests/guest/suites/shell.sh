# SPDX-License-Identifier: GPL-2.0
# tools/xenrig boot: an interactive shell in dom0, with the toolstack up.
toolstack_up || echo "toolstack did not start"
echo "dom0 shell; 'poweroff -f' ends the session (Ctrl-A X quits QEMU)"
setsid cttyhack sh
