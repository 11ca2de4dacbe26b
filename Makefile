# SPDX-License-Identifier: GPL-2.0
#
# make                 build build/<release>/kmod/iptap.ko for KDIR
#                      (default: the running kernel's headers)
# make KDIR=/lib/modules/<release>/build   the same for another kernel
# make KDIR=... KROOT=DIR  the same, built inside the build root DIR whose
#                      compiler the headers KDIR (a folder in DIR) need
# make matrix          fetch the test kernels and their headers (extracted
#                      into build/kernels/, never installed) and build for each
# make check           build for every kernel of the matrix, lint, and run
#                      every selftest in the VMs
# make check-debug     selftests of the kernel code on a debug kernel
#                      (PREEMPT_RT, lockdep, KFENCE, kmemleak...) built from
#                      linux-source-6.12 and selftests/debug/config
# make demo [KERNEL=<release>]   build, boot, capture: iptap at work in
#                      the VM, on the newest Debian 12 kernel by default
# make tools           build the userspace tools: tools/iptapdump,
#                      Debian's libpcap and tcpdump with the patches in
#                      tools/pcap-patches/ (make pcap-tools) into build/pcap/,
#                      and ip's "type iptap" options, build/ip/link_iptap.so
#                      (make ip-plugin, tools/ip-iptap/)
# make deb             Debian packages iptap-dkms and iptap-tools into
#                      build/deb/ (packaging/), checked by lintian
# make install         for hosts without dpkg: the module for KDIR's kernel
#                      into /lib/modules/<release>/extra (then depmod), and
#                      iptapdump, the patched tcpdump and the manual pages
#                      under PREFIX (/usr/local); DESTDIR is honoured
# make uninstall       remove what make install installed
# make dkms-install    register this tree's module with DKMS, which builds
#                      and installs it for the running kernel and each new
#                      one; make dkms-uninstall removes it
# make clean           remove all that the build made

KDIR ?= /lib/modules/$(shell uname -r)/build
KROOT ?=
BUILD := $(CURDIR)/build
VM := selftests/vm

release = $(shell sed -n 's/^\#define UTS_RELEASE "\(.*\)"/\1/p' \
		$(1)/include/generated/utsrelease.h 2>/dev/null)
KREL := $(call release,$(KDIR))
SOURCES := Kbuild $(wildcard kmod/*.c kmod/*.h kmod/Kbuild) include/uapi/linux/iptap.h

PCAP_TCPDUMP := $(BUILD)/pcap/root/bin/tcpdump

.PHONY: all module matrix deps lint check selftests demo clean tools
.PHONY: pcap-tools ip-plugin deb install uninstall dkms-install dkms-uninstall

all: module

# Neither kernel's kbuild can put objects outside the source folder, so
# each release builds in a copy of its own: build/<release>/.
module:
	@test -n "$(KREL)" || { echo "no kernel headers in $(KDIR) (set KDIR)" >&2; exit 1; }
	@mkdir -p $(BUILD)/$(KREL)
	@cp -p --parents $(SOURCES) $(BUILD)/$(KREL)/
	$(if $(KROOT),$(VM)/kernels.sh run $(KROOT)) \
	$(MAKE) -C $(patsubst $(KROOT)%,%,$(KDIR)) M=$(BUILD)/$(KREL) W=1 \
		$(if $(WERROR),KCFLAGS=-Werror) modules

deps:
	@selftests/deps.sh

tools: deps pcap-tools ip-plugin
	$(MAKE) -C tools/iptapdump

matrix: deps tools
	@for rel in $$($(VM)/kernels.sh list); do \
		$(VM)/kernels.sh fetch $(BUILD)/kernels $$rel || exit 1; \
		$(MAKE) --no-print-directory module WERROR=1 \
			KDIR=$$($(VM)/kernels.sh kdir $(BUILD)/kernels $$rel) \
			KROOT=$$($(VM)/kernels.sh root $(BUILD)/kernels $$rel) || exit 1; \
	done

lint: matrix
	@selftests/lint.sh

selftests: matrix
	@selftests/run.sh

check: matrix tools deb
	@selftests/check.sh

# The debug kernel is built (or taken from its cache) by
# selftests/debug/check.sh, which then builds the module for it.
.PHONY: check-debug
check-debug: deps tools
	@selftests/debug/check.sh

demo: deps tools
	@selftests/demo.sh $(KERNEL)

clean:
	rm -rf $(BUILD)
	$(MAKE) -C tools/iptapdump clean

pcap-tools: deps
	@tools/pcap-patches/build.sh

ip-plugin: deps
	@tools/ip-iptap/build.sh

VERSION := $(shell sed -n 's/^\#define IPTAP_VERSION\t"\(.*\)"$$/\1/p' kmod/iptap.h)

deb: pcap-tools ip-plugin
	@VERSION=$(VERSION) SOURCES="$(SOURCES)" packaging/build-deb.sh

PREFIX ?= /usr/local
MODDIR = $(DESTDIR)/lib/modules/$(KREL)/extra

install: module tools
	install -D -m 644 $(BUILD)/$(KREL)/kmod/iptap.ko $(MODDIR)/iptap.ko
	$(if $(DESTDIR),,depmod -a $(KREL))
	install -D -m 755 tools/iptapdump/iptapdump $(DESTDIR)$(PREFIX)/sbin/iptapdump
	install -D -m 755 $(PCAP_TCPDUMP) $(DESTDIR)$(PREFIX)/sbin/tcpdump
	install -D -m 644 man/iptap.4 $(DESTDIR)$(PREFIX)/share/man/man4/iptap.4
	install -D -m 644 man/iptapdump.8 $(DESTDIR)$(PREFIX)/share/man/man8/iptapdump.8
	install -D -m 644 $(BUILD)/pcap/root/share/man/man8/tcpdump.8 \
		$(DESTDIR)$(PREFIX)/share/man/man8/tcpdump.8

uninstall:
	@test -n "$(KREL)" || { echo "no kernel headers in $(KDIR) (set KDIR)" >&2; exit 1; }
	rm -f $(MODDIR)/iptap.ko
	$(if $(DESTDIR),,depmod -a $(KREL))
	rm -f $(DESTDIR)$(PREFIX)/sbin/iptapdump $(DESTDIR)$(PREFIX)/sbin/tcpdump \
		$(DESTDIR)$(PREFIX)/share/man/man4/iptap.4 \
		$(DESTDIR)$(PREFIX)/share/man/man8/iptapdump.8 \
		$(DESTDIR)$(PREFIX)/share/man/man8/tcpdump.8

DKMS_SRC := /usr/src/iptap-$(VERSION)

dkms-install: dkms-uninstall
	mkdir -p $(DKMS_SRC)
	cp -p --parents $(SOURCES) $(DKMS_SRC)/
	sed 's/#MODULE_VERSION#/$(VERSION)/' packaging/dkms.conf >$(DKMS_SRC)/dkms.conf
	dkms add -m iptap -v $(VERSION)
	dkms install -m iptap -v $(VERSION)

dkms-uninstall:
	if dkms status -m iptap -v $(VERSION) | grep -q .; then \
		dkms remove -m iptap -v $(VERSION) --all; fi
	rm -rf $(DKMS_SRC)

# make bench: the benchmark in the VM, tables into BENCHMARKS.md (not
# part of check: rates are measurements, not pass/fail tests)
.PHONY: bench
bench: matrix
	@selftests/bench/bench.sh
