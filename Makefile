# Hot: the two commands a fresh machine needs are `make demo` and `make test`.
# Both install what they lack (libgit2-dev) before building.

PREFIX ?= /usr/local
SWIFT  ?= swift
BIN     = .build/debug
RELEASE = .build/release

.PHONY: all deps fingerprint build test counts tsan demo install uninstall bench bench-curve soak clean fuzz

all: build

deps:
	@scripts/deps.sh

# The SDK fingerprint is derived from Sources/Hot; a test checks it is current.
fingerprint:
	@scripts/fingerprint.sh

build: deps fingerprint
	$(SWIFT) build

test: fingerprint
	@scripts/deps.sh test
	$(SWIFT) build --build-tests
	$(SWIFT) test
	SWIFT=$(SWIFT) scripts/counts.sh

# The figures counted rather than timed, against Benchmarks/counts.txt
# (make test runs this last); scripts/counts.sh --write records new ones.
counts: deps
	SWIFT=$(SWIFT) scripts/counts.sh

# The reload stress test again, with hot, hotnode and the tests built under
# ThreadSanitizer in a build folder of their own (scripts/tsan.sh says why
# its run is bounded). The project has no XCTest tests; that phase is skipped.
# HOT_TSAN shows ThreadSanitizer the holds of a lock it cannot see
# (Sources/HotPlatform/Locked.swift).
TSAN_BUILD = .build-tsan
tsan: deps fingerprint
	$(SWIFT) build --build-tests --sanitize=thread -Xswiftc -DHOT_TSAN --scratch-path $(TSAN_BUILD)
	SWIFT=$(SWIFT) scripts/tsan.sh $(TSAN_BUILD)

# The control protocol's libFuzzer target (frame decoder, term codec,
# handshake, session), built with AddressSanitizer in .build-fuzz and run for
# FUZZ_SECONDS; crashes land in .build-fuzz/artifacts.
FUZZ_SECONDS ?= 60
fuzz: deps
	FUZZ_SECONDS=$(FUZZ_SECONDS) SWIFT=$(SWIFT) scripts/fuzz.sh

demo: build
	@scripts/demo.sh $(BIN)

install: deps fingerprint
	$(SWIFT) build -c release
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/hot $(DESTDIR)$(PREFIX)/share/hot
	install -m 755 $(RELEASE)/hot $(RELEASE)/hotnode $(DESTDIR)$(PREFIX)/bin/
	install -m 644 $(RELEASE)/Modules/Hot.swiftmodule $(RELEASE)/Modules/Hot.swiftdoc $(DESTDIR)$(PREFIX)/lib/hot/
	rm -rf $(DESTDIR)$(PREFIX)/share/hot/templates $(DESTDIR)$(PREFIX)/share/hot/package
	cp -R templates $(DESTDIR)$(PREFIX)/share/hot/templates
	# The hummingbird and vapor templates' apps depend on Hot's package by path.
	install -d $(DESTDIR)$(PREFIX)/share/hot/package
	cp -R Package.swift Sources $(DESTDIR)$(PREFIX)/share/hot/package/
	@echo "installed hot and hotnode in $(PREFIX)/bin, the SDK in $(PREFIX)/lib/hot"

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/hot $(DESTDIR)$(PREFIX)/bin/hotnode
	rm -rf $(DESTDIR)$(PREFIX)/lib/hot $(DESTDIR)$(PREFIX)/share/hot

# The Benchmarks package builds hot and hotnode in release along with the
# benchmarks (it depends on this package): one release build for everything.
# It and the bench apps are built at fixed paths in the machine's benchmark
# cache, ~/.cache/hot-bench (HOT_BENCH_CACHE), so that a new checkout builds
# only Hot's own targets again; removing that folder starts afresh.
bench: deps fingerprint
	@scripts/bench.sh
	@echo "figures 12 and 13 (the load curve, compaction) are make bench-curve's; the soak to the map ceiling is make soak's"

# Figures 12 and 13: the load curve (2,030 versions, compiled again when the
# SDK changes) and compaction; BENCHMARKS.md takes them from
# Benchmarks/CURVE.md at the next make bench.
bench-curve: deps fingerprint
	@scripts/bench/curve.sh

# The load curve to 10,000 loads and the map ceiling: Benchmarks/SOAK.md.
soak: deps fingerprint
	$(SWIFT) build -c release --package-path Benchmarks --product hotcurve
	$(SWIFT) build -c release --package-path Benchmarks --product hot
	scripts/bench/soak.sh Benchmarks/.build/release

clean:
	rm -rf .build $(TSAN_BUILD)
