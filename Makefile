# groupvit-edge — build, demo, tests and benchmarks.
#
#   make demo    segment the sample scenes with the embedded default model
#   make test    everything CI runs (fetches the TFLite runtime first)
#   make bench   speed and memory of each engine, side by side

GO      ?= go
BIN     := bin/groupvit
OUT     ?= out
# The labels the embedded default model was trained on.
DEMO_LABELS ?= circle,square,triangle,star,cross,heart

include mk/tflite.mk
-include mk/train.mk
include mk/peers.mk

.PHONY: build demo test go-test vet cross bench fuzz clean

build:
	CGO_ENABLED=0 $(GO) build -trimpath -o $(BIN) .

demo: build
	./$(BIN) run --labels "$(DEMO_LABELS)" --input testdata/scenes --out $(OUT)/demo
	@echo "overlays, label masks and JSON records are in $(OUT)/demo"

# CI runs exactly this target (.ci/run). The TFLite tests fail instead of
# skipping when CI=true and the runtime is missing, so it is fetched first.
test: tflite-lib vet go-test $(TRAIN_TEST)

# What CI needs besides Go on a fresh Debian machine, where it runs as root:
# Chromium, for the live page's browser tests (stream/, cli/,
# internal/headless), which fail rather than skip under CI=true. Nothing is
# installed when a browser internal/headless.Find accepts is already there,
# so a warm machine pays nothing.
CI_BROWSERS ?= chromium chromium-browser google-chrome google-chrome-stable
.PHONY: ci-deps
ci-deps:
	@for b in $${GROUPVIT_CHROMIUM:-} $(CI_BROWSERS); do \
		if command -v "$$b" >/dev/null 2>&1; then echo "ci-deps: browser $$(command -v "$$b")"; exit 0; fi; \
	done; \
	if [ "$$(id -u)" != 0 ]; then \
		echo "ci-deps: chromium is missing; run as root, or: sudo apt-get install chromium" >&2; exit 1; \
	fi; \
	echo "ci-deps: installing chromium"; \
	export DEBIAN_FRONTEND=noninteractive; \
	apt-get update && apt-get install -y chromium

vet:
	$(GO) vet ./...

go-test:
	GROUPVIT_TFLITE_LIB='$(TFLITE_LIB)' $(GO) test -count=1 -timeout 20m ./...

# The binary must build without cgo, for the host and for 64-bit Arm boards.
cross:
	CGO_ENABLED=0 GOOS=linux GOARCH=arm64 $(GO) build -o /dev/null .
	CGO_ENABLED=0 GOOS=linux GOARCH=amd64 $(GO) build -o /dev/null .

# The full gcc-yfcc architecture (random weights: speed does not depend on
# them), native against TFLite fp32/fp16/int8 on XNNPACK, each variant in its
# own process so its peak memory is its own. Extra flags: BENCH_ARGS=...
# (e.g. --format json). Kernel micro-benchmarks: go test -run '^$' -bench . ./infer/... ./tensor/...;
# the decode's (official against refined masks): go test -run '^$' -bench Decode ./labels;
# the JPEG decoder's against image/jpeg (cpu-ns/op): go test -run '^$' -bench Decode ./internal/jpegdec
# Peers (PyTorch eager, onnxruntime fp32/int8, LiteRT's Python runtime) on the
# same weights, interleaved round by round with our variants, when
# `make peers-venv` has been run; otherwise the table says they were skipped.
BENCH_ROUNDS ?= 3
bench: build tflite-lib
	GROUPVIT_TFLITE_LIB='$(TFLITE_LIB)' ./$(BIN) bench --config gcc-yfcc --size 224 --rounds $(BENCH_ROUNDS) --runs 3 --warmup 1 \
		--threads 1,2 --precisions fp32,fp16,int8 --require-tflite --peers '$(PEERS_PYTHON)' $(BENCH_ARGS)

# Each fuzzer for a while; `make fuzz FUZZTIME=5m` for longer.
FUZZTIME ?= 30s
fuzz:
	$(GO) test ./models -run '^$$' -fuzz FuzzReadSafetensors -fuzztime $(FUZZTIME)
	$(GO) test ./models -run '^$$' -fuzz FuzzReadPyTorch -fuzztime $(FUZZTIME)
	$(GO) test ./labels -run '^$$' -fuzz FuzzTokenize -fuzztime $(FUZZTIME)
	$(GO) test ./internal/jpegdec -run '^$$' -fuzz FuzzDecode -fuzztime $(FUZZTIME)

clean:
	rm -rf bin $(OUT)
