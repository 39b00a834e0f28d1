# TEMP
fpcheck -p 2 -t 60
echo "XENRIG-FP done"
