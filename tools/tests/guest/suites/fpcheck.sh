# TEMP
toolstack_up
domu_start fp 256 256 "xenrig.role=fpspin"
fpcheck -p 4 -t 50
wait_until 120 grep -q "XENRIG-FP done" /var/log/xen/console/guest-fp.log
grep fpcheck /var/log/xen/console/guest-fp.log
pass fpcheck-ran
