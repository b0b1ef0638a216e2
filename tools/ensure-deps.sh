#!/bin/sh
# Checks for the programs the build, `make run` and `make test` need (with
# the argument `compare`, also `make compare`'s peers), and on
# a Debian machine installs the missing packages (as root) or prints the
# exact command to run (otherwise).
set -e

missing=""
need() { # need COMMAND PACKAGE
	command -v "$1" >/dev/null 2>&1 || missing="$missing $2"
}
need gcc gcc
need make make
need ld binutils
need qemu-system-x86_64 qemu-system-x86
need grub-mkrescue grub-common
need xorriso xorriso
need mformat mtools
need python3 python3
# grub-mkrescue needs the BIOS (i386-pc) modules to make a bootable ISO.
[ -d /usr/lib/grub/i386-pc ] || missing="$missing grub-pc-bin"
# The hosted port (tests/hosted/) builds with clang; its sanitizer and
# libFuzzer runtimes are a separate package, libclang-rt-N-dev for clang N
# (Debian 12's clang is 14).
if ! command -v clang >/dev/null 2>&1; then
	missing="$missing clang libclang-rt-14-dev"
elif [ ! -f "$(clang -print-resource-dir)/lib/linux/libclang_rt.fuzzer-x86_64.a" ]; then
	missing="$missing libclang-rt-$(clang -dumpversion | cut -d. -f1)-dev"
fi

# `make compare` (tools/compare/) also needs the peers it runs against.
if [ "$1" = compare ]; then
	need go golang-go
	[ -f /usr/include/gc/gc.h ] || missing="$missing libgc-dev"
	[ -f /usr/include/mimalloc.h ] || missing="$missing libmimalloc-dev"
	[ -f /usr/include/jemalloc/jemalloc.h ] || missing="$missing libjemalloc-dev"
fi

[ -z "$missing" ] && exit 0
pkgs=$(echo $missing | tr ' ' '\n' | sort -u | tr '\n' ' ')
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
	echo "Installing missing packages: $pkgs"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q
	# shellcheck disable=SC2086
	apt-get install -y -q --no-install-recommends $pkgs
else
	echo "Missing packages: $pkgs"
	echo "Install them with:"
	echo "  sudo apt-get update && sudo apt-get install -y $pkgs"
	exit 1
fi
