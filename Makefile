# groupvit-edge — build, demo, tests and benchmarks.
#
#   make demo    segment the sample scenes with the embedded default model
#   make test    everything CI runs (fetches the TFLite runtime first)
#   make bench   speed and memory of each engine, side by side; file mode
#                against the engine alone (make bench-readme: into README)

GO      ?= go
BIN     := bin/groupvit
OUT     ?= out
# The labels the embedded default model was trained on.
DEMO_LABELS ?= circle,square,triangle,star,cross,heart

include mk/tflite.mk
include mk/litert.mk
-include mk/train.mk
include mk/peers.mk
include mk/quant.mk

.PHONY: build demo test go-test vet cross bench fuzz clean

build:
	CGO_ENABLED=0 $(GO) build -trimpath -buildvcs=auto -o $(BIN) .

demo: build
	./$(BIN) run --labels "$(DEMO_LABELS)" --input testdata/scenes --out $(OUT)/demo
	@echo "overlays, label masks and JSON records are in $(OUT)/demo"

# CI runs exactly this target (.ci/run). The runtime tests (LiteRT, its GPU
# path on SwiftShader, and the classic TFLite C API) fail instead of
# skipping when CI=true and a runtime is missing, so both are fetched first;
# then the arm64 binary is checked under qemu-user.
test: tflite-lib litert-lib vet go-test arm64-check $(TRAIN_TEST)

# What CI needs besides Go on a fresh Debian machine, where it runs as root:
# Chromium, for the live page's browser tests (stream/, cli/,
# internal/browsertest) and for SwiftShader, the CPU Vulkan the GPU tests run
# LiteRT's WebGPU accelerator on; the Vulkan loader (libvulkan1), which
# chromium does not pull in with --no-install-recommends; the arm64 C and
# C++ libraries (qemu-aarch64 itself: scripts/fetch-qemu.sh) for `make arm64-check` (libLiteRt.so needs libstdc++); pip for the wheels. Those tests
# fail rather than skip under CI=true. Only what is missing is installed,
# so a warm machine pays nothing. Without its Recommends (upower, udev,
# Mesa's GL drivers, fonts, a notification daemon, printer tools: none used
# headless) chromium is 25 Debian packages instead of 115 (README, Set-up).
CI_BROWSERS ?= chromium chromium-browser google-chrome google-chrome-stable
.PHONY: ci-deps
ci-deps:
	@need=""; browser=""; \
	for b in $${GROUPVIT_CHROMIUM:-} $(CI_BROWSERS); do \
		if command -v "$$b" >/dev/null 2>&1; then browser="$$(command -v "$$b")"; break; fi; \
	done; \
	if [ -n "$$browser" ]; then echo "ci-deps: browser $$browser"; fi; \
	if [ -z "$$browser" ] || [ ! -f $(CHROMIUM_LIBDIR)/libvk_swiftshader.so ]; then need="$$need chromium"; fi; \
	ldconfig -p | grep -q 'libvulkan\.so\.1 ' || need="$$need libvulkan1"; \
	[ -e /usr/aarch64-linux-gnu/lib/ld-linux-aarch64.so.1 ] || need="$$need libc6-arm64-cross"; \
	[ -e /usr/aarch64-linux-gnu/lib/libstdc++.so.6 ] || need="$$need libstdc++6-arm64-cross"; \
	python3 -m pip --version >/dev/null 2>&1 || need="$$need python3-pip"; \
	python3 -c 'import ensurepip' >/dev/null 2>&1 || need="$$need python3-venv"; \
	if [ -z "$$need" ]; then echo "ci-deps: nothing to install"; exit 0; fi; \
	if [ "$$(id -u)" != 0 ]; then \
		echo "ci-deps: missing$$need; run as root, or: sudo apt-get install$$need" >&2; exit 1; \
	fi; \
	echo "ci-deps: installing$$need"; \
	export DEBIAN_FRONTEND=noninteractive; \
	apt-get update && apt-get install -y --no-install-recommends $$need

vet:
	$(GO) vet ./...

go-test:
	GROUPVIT_TFLITE_LIB='$(TFLITE_LIB)' GROUPVIT_LITERT_LIB='$(LITERT_LIB)' $(GO) test -count=1 -timeout 20m ./...

# The binary builds without cgo, for the host and for 64-bit Arm boards
# (Raspberry Pi 5, Jetson Orin): bin/groupvit-linux-arm64 is the file to copy
# to a board (docs/deploy.md).
cross:
	CGO_ENABLED=0 GOOS=linux GOARCH=arm64 $(GO) build -trimpath -buildvcs=auto -o bin/groupvit-linux-arm64 .
	CGO_ENABLED=0 GOOS=linux GOARCH=amd64 $(GO) build -trimpath -buildvcs=auto -o bin/groupvit-linux-amd64 .

# The full gcc-yfcc architecture (random weights: speed does not depend on
# them), native against LiteRT (CPU) and the classic TFLite 2.17 C API, both
# on XNNPACK, at fp32/fp16/int8 and 1 and 2 threads; LiteRT's GPU
# accelerator on SwiftShader (labelled so: Vulkan on the CPU, not a GPU's
# speed); and, when `make bench-venv` made its venv, LiteRT's own Python
# runtime on the same files; and, when `make peers-venv` made its venv, PyTorch
# eager and onnxruntime fp32/int8 on the same weights (else the table says they
# were skipped). Each variant runs in its own process, in
# BENCH_ROUNDS interleaved rounds. Extra flags: BENCH_ARGS=... (e.g. --format
# json). Kernel micro-benchmarks: go test -run '^$' -bench . ./infer/... ./tensor/...;
# the decode's (official against refined masks): go test -run '^$' -bench Decode ./labels;
# the JPEG decoder's against image/jpeg (cpu-ns/op): go test -run '^$' -bench Decode ./internal/jpegdec
BENCH_ROUNDS ?= 2
BENCH_FORMAT ?= table
bench: build tflite-lib litert-lib swiftshader
	GROUPVIT_TFLITE_LIB='$(TFLITE_LIB)' GROUPVIT_LITERT_LIB='$(LITERT_LIB)' $(SWIFTSHADER_ENV) \
		./$(BIN) bench --config gcc-yfcc --size 224 --runs 5 --warmup 1 --rounds $(BENCH_ROUNDS) \
		--threads 1,2 --precisions fp32,fp16,int8 --require-tflite --require-litert --gpu \
		$(if $(wildcard $(BENCH_VENV)/bin/python),--python '$(BENCH_VENV)/bin/python') --peers '$(PEERS_PYTHON)' --format $(BENCH_FORMAT) $(BENCH_ARGS)
	@echo
	./$(BIN) bench-files --input testdata/scenes --format $(BENCH_FORMAT) $(BENCH_FILES_ARGS)

# File mode against the engine alone (the embedded default model, native
# engine, the sample scenes) in one run: the pipelined file mode should keep
# 90 % of the engine-bound rate. Also the last part of `make bench`.
BENCH_FILES_ARGS ?= --images 60 --rounds 3
bench-files: build
	./$(BIN) bench-files --input testdata/scenes --format $(BENCH_FORMAT) $(BENCH_FILES_ARGS)

# The README's speed tables, regenerated from one run of `make bench` with
# BENCH_FORMAT=markdown and pasted verbatim between its bench markers
# (scripts/readme-bench.sh): never edited by hand, and naming the machine.
.PHONY: bench-files bench-readme
bench-readme: build tflite-lib litert-lib swiftshader
	mkdir -p $(OUT)
	$(MAKE) -s --no-print-directory bench BENCH_FORMAT=markdown > $(OUT)/bench.md
	scripts/readme-bench.sh $(OUT)/bench.md README.md

# Each fuzzer for a while, one after the other: every parser of outside
# data (.tflite, safetensors, torch zip and pickle, config.json, label
# embeddings, MJPEG splitter, Y4M, the label-change body, the tokenizer,
# the JPEG decoder).
# `make fuzz FUZZTIME=5m` for longer, or FUZZTIME=1000000x for a count.
# Minimisation is capped by executions: with Go's default of 60 s per new
# input, a fuzzer can spend most of its time minimising and few executions
# fuzzing.
FUZZTIME ?= 10s
FUZZ_TARGETS := ./tflite:FuzzParse ./models:FuzzReadSafetensors ./models:FuzzReadPyTorch \
	./models:FuzzUnpickleStateDict ./models:FuzzParseConfig ./labels:FuzzParseEmbeddingFile \
	./labels:FuzzTokenize ./capture:FuzzJPEGSplitter ./capture:FuzzY4M ./stream:FuzzLabelsBody \
	./internal/jpegdec:FuzzDecode
fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; fn=$${t##*:}; echo "fuzz: $$fn ($$pkg)"; \
		$(GO) test $$pkg -run '^$$' -fuzz "^$$fn\$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 500x; \
	done

clean:
	rm -rf bin $(OUT)
