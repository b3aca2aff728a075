# mk/litert.mk — Google's LiteRT runtime (infer/litert), its GPU path on
# SwiftShader, the arm64 check under qemu-user, and the Python peer venv.
#
# Included by the top-level Makefile.
#   make litert-lib     fetch libLiteRt.so + libLiteRtWebGpuAccelerator.so
#                       (ai-edge-litert==2.3.0, pinned by sha256 in
#                       mk/litert-requirements.txt) for this machine's
#                       architecture into LITERT_CACHE; never into the repo
#   make swiftshader    write SwiftShader's Vulkan ICD with an absolute
#                       library path (for `make bench` GPU rows; the Go tests
#                       write their own, internal/swiftshader)
#   make arm64-check    the arm64 binary under qemu-aarch64 (bookworm-backports'
#                       build, fetched into the cache): fixture and
#                       default model, native and LiteRT CPU, masks equal to
#                       this machine's
#   make bench-venv     a venv with ai-edge-litert, outside the repo, for the
#                       LiteRT-Python rows of `make bench`

LITERT_VERSION := 2.3.0
GVE_CACHE      ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/groupvit-edge
LITERT_CACHE   ?= $(or $(GROUPVIT_LITERT_CACHE),$(GVE_CACHE)/litert-$(LITERT_VERSION))
LITERT_LIB     := $(LITERT_CACHE)/libLiteRt.so
# The aarch64 copy, for the qemu check: a folder of its own.
LITERT_CACHE_ARM64 ?= $(GVE_CACHE)/litert-$(LITERT_VERSION)-aarch64
BENCH_VENV     ?= $(GVE_CACHE)/venv
SWIFTSHADER_DIR ?= $(GVE_CACHE)/swiftshader
SWIFTSHADER_ICD := $(SWIFTSHADER_DIR)/vk_swiftshader_icd.json
CHROMIUM_LIBDIR ?= /usr/lib/chromium
# Environment for a process that should see SwiftShader as its Vulkan GPU.
SWIFTSHADER_ENV = VK_ICD_FILENAMES='$(SWIFTSHADER_ICD)' XDG_RUNTIME_DIR='$(SWIFTSHADER_DIR)/run'

.PHONY: litert-lib swiftshader arm64-check bench-venv

litert-lib: $(LITERT_LIB)

$(LITERT_LIB): mk/litert-requirements.txt
	@GROUPVIT_LITERT_CACHE='$(LITERT_CACHE)' scripts/fetch-litert.sh >/dev/null
	@touch '$@'
	@echo "LiteRT runtime: $@"

$(LITERT_CACHE_ARM64)/libLiteRt.so: mk/litert-requirements.txt
	@GROUPVIT_LITERT_CACHE='$(LITERT_CACHE_ARM64)' scripts/fetch-litert.sh --arch aarch64 >/dev/null
	@touch '$@'

swiftshader: $(SWIFTSHADER_ICD)

$(SWIFTSHADER_ICD): $(CHROMIUM_LIBDIR)/vk_swiftshader_icd.json
	@mkdir -p '$(SWIFTSHADER_DIR)' && mkdir -m 700 -p '$(SWIFTSHADER_DIR)/run'
	@python3 -c 'import json,os,sys; d=json.load(open(sys.argv[1])); l=d["ICD"]["library_path"]; d["ICD"]["library_path"]=os.path.normpath(os.path.join(os.path.dirname(sys.argv[1]),l)); json.dump(d,open(sys.argv[2],"w"))' '$<' '$@'
	@echo "SwiftShader ICD: $@"

$(CHROMIUM_LIBDIR)/vk_swiftshader_icd.json:
	@echo "SwiftShader missing: $@ (install chromium: make ci-deps)" >&2; exit 1

# The arm64 check: cross-built binary, Debian's qemu-user with the arm64 C
# and C++ libraries; native engine and the classic TFLite runtime (aarch64
# build) and LiteRT's CPU accelerator (ARM64_LITERT=0 leaves it out). LiteRT
# needs a qemu newer than bookworm's 7.2, which shows the guest the host's
# x86 /proc/cpuinfo and so crashes XNNPACK's CPU probe (scripts/fetch-qemu.sh
# says how this was found); the check therefore uses bookworm-backports'
# qemu-aarch64, fetched into the cache. Tiny models only, so it stays short.
QEMU_CACHE ?= $(GVE_CACHE)/qemu-backports
QEMU_AARCH64 ?= $(QEMU_CACHE)/qemu-aarch64
ARM64_SYSROOT ?= /usr/aarch64-linux-gnu
TFLITE_CACHE_ARM64 ?= $(GVE_CACHE)/tflite-$(TFLITE_VERSION)-aarch64
ARM64_LITERT ?= 1
$(QEMU_CACHE)/qemu-aarch64:
	@scripts/fetch-qemu.sh '$(QEMU_CACHE)'

$(TFLITE_CACHE_ARM64)/libtensorflowlite_c.so:
	@GROUPVIT_TFLITE_CACHE='$(TFLITE_CACHE_ARM64)' scripts/fetch-tflite.sh --arch aarch64 >/dev/null

arm64-check: build $(if $(filter $(QEMU_CACHE)/qemu-aarch64,$(QEMU_AARCH64)),$(QEMU_AARCH64)) $(TFLITE_LIB) $(TFLITE_CACHE_ARM64)/libtensorflowlite_c.so $(if $(filter 1,$(ARM64_LITERT)),$(LITERT_LIB) $(LITERT_CACHE_ARM64)/libLiteRt.so)
	@command -v $(QEMU_AARCH64) >/dev/null || { echo "arm64-check: $(QEMU_AARCH64) missing (scripts/fetch-qemu.sh, or QEMU_AARCH64=a qemu-aarch64 ≥ 8)" >&2; exit 1; }
	@test -d $(ARM64_SYSROOT)/lib || { echo "arm64-check: $(ARM64_SYSROOT) missing (apt-get install libc6-arm64-cross; make ci-deps)" >&2; exit 1; }
	CGO_ENABLED=0 GOOS=linux GOARCH=arm64 $(GO) build -trimpath -o bin/groupvit-arm64 .
	QEMU_AARCH64='$(QEMU_AARCH64)' ARM64_SYSROOT='$(ARM64_SYSROOT)' ARM64_LITERT='$(ARM64_LITERT)' \
		scripts/arm64-check.sh ./$(BIN) bin/groupvit-arm64 '$(TFLITE_LIB)' '$(TFLITE_CACHE_ARM64)/libtensorflowlite_c.so' \
		'$(LITERT_LIB)' '$(LITERT_CACHE_ARM64)/libLiteRt.so'

bench-venv: $(BENCH_VENV)/bin/python

$(BENCH_VENV)/bin/python: mk/litert-requirements.txt
	python3 -m venv '$(BENCH_VENV)'
	'$(BENCH_VENV)/bin/pip' install --quiet --no-deps --require-hashes -r mk/litert-requirements.txt
	'$(BENCH_VENV)/bin/pip' install --quiet backports.strenum flatbuffers ml_dtypes numpy protobuf tqdm typing-extensions
	@touch '$@'
