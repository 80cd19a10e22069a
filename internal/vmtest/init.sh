#!/bin/busybox sh
# PID 1 of the vmtest guest. It mounts the host's root filesystem
# (virtiofs, read-only), gives it fresh kernel filesystems and writable
# tmpfs directories, runs /job.sh there as root, prints the job's exit
# status on the console for the host and powers off.
/bin/busybox --install -s
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t devtmpfs devtmpfs /dev
exec </dev/null >/dev/console 2>&1
mount -t proc proc /proc
mount -t sysfs sysfs /sys
. /vmtest.env

say() { echo "vmtest: $*"; }
finish() {
	echo "vmtest-exit-$NONCE=$1"
	sync
	poweroff -f
	sleep 10
}
die() {
	say "$*"
	finish 125
}

say "guest kernel $(uname -r), init at $(cut -d' ' -f1 /proc/uptime)s"
for m in $BOOT_MODULES; do
	insmod /boot-modules/$m || die "insmod $m failed"
done
R=/newroot
mount -t virtiofs -o ro hostroot $R || die "cannot mount the host's root (virtiofs)"

mount -t proc proc $R/proc || die "mount proc"
mount -t sysfs sysfs $R/sys || die "mount sysfs"
mount -t devtmpfs devtmpfs $R/dev || die "mount devtmpfs"
mkdir -p $R/dev/pts $R/dev/shm
mount -t devpts devpts $R/dev/pts
mount -t tmpfs tmpfs $R/dev/shm
# Host paths the job needs (the working tree, Go, ../shared) may live
# where the guest gets tmpfs (a clone under /tmp): hold them aside and
# move them back over the tmpfs.
held() {
	i=0
	for p in $KEEP; do
		case $p in
		/tmp/* | /run/* | /var/tmp/*)
			i=$((i + 1))
			$1 "$p" /held/$i || die "keep $p"
			;;
		esac
	done
}
hold() { mkdir -p "$2" && mount -o bind "$R$1" "$2"; }
put_back() { mkdir -p "$R$1" && mount -o move "$2" "$R$1"; }
held hold
for d in /tmp /run /var/tmp; do
	mount -t tmpfs -o mode=1777 tmpfs $R$d || die "mount tmpfs on $d"
done
held put_back
mount -t bpf bpf $R/sys/fs/bpf || die "mount bpffs"
mount -t tracefs tracefs $R/sys/kernel/tracing || die "mount tracefs"
mount -t debugfs debugfs $R/sys/kernel/debug || die "mount debugfs"
mount -t securityfs securityfs $R/sys/kernel/security || die "mount securityfs"
mount -t cgroup2 cgroup2 $R/sys/fs/cgroup || die "mount cgroup2"
# The kernel's own /boot (config, System.map), as a Debian system has it.
mount -o bind $R$KERNEL_BOOT $R/boot || die "bind /boot"
ip link set lo up
hostname vmtest

mkdir -p $R/run/vmtest
cp /job.sh $R/run/vmtest/job.sh
say "booted at $(cut -d' ' -f1 /proc/uptime)s"
echo "vmtest-booted-$NONCE"
chroot $R /bin/sh /run/vmtest/job.sh </dev/null
finish $?
