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
#   make arm64-check    the arm64 binary under qemu-aarch64: fixture and
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
# build), and with ARM64_LITERT=1 LiteRT too (see scripts/arm64-check.sh for
# why it is not on by default). Tiny models only, so it stays short.
QEMU_AARCH64 ?= qemu-aarch64
ARM64_SYSROOT ?= /usr/aarch64-linux-gnu
TFLITE_CACHE_ARM64 ?= $(GVE_CACHE)/tflite-$(TFLITE_VERSION)-aarch64
ARM64_LITERT ?= 0
$(TFLITE_CACHE_ARM64)/libtensorflowlite_c.so:
	@GROUPVIT_TFLITE_CACHE='$(TFLITE_CACHE_ARM64)' scripts/fetch-tflite.sh --arch aarch64 >/dev/null

arm64-check: build $(TFLITE_LIB) $(TFLITE_CACHE_ARM64)/libtensorflowlite_c.so $(if $(filter 1,$(ARM64_LITERT)),$(LITERT_LIB) $(LITERT_CACHE_ARM64)/libLiteRt.so)
	@command -v $(QEMU_AARCH64) >/dev/null || { echo "arm64-check: $(QEMU_AARCH64) missing (apt-get install qemu-user; make ci-deps)" >&2; exit 1; }
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
