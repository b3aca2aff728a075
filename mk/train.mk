# mk/train.mk — the PyTorch trainer in train/ (included by the top-level Makefile).
#
#   make train-deps    Debian's PyTorch 1.13 + OpenBLAS (apt), if not there yet
#   make train         the full run that produced models/default (resumable: rerun it)
#   make train-smoke   a few steps, exported to $(TRAIN_SMOKE_DIR), with 8 eval scenes
#   make train-test    pytest train/tests (fixture match, generator, tokenizer, smoke)
#   make train-evalset 500 held-out scenes + masks for `groupvit eval`
#   make train-eval    the shipped model scored by the Go binary on them, with baselines
#   make train-samples the demo scenes in testdata/scenes
#
# Why Debian's torch and not PyPI's: PyPI only has the CUDA build for Linux
# (5.4 GB with its nvidia-* wheels); Debian's is ~250 MB and, once OpenBLAS
# replaces the reference BLAS, trains our model as fast (train/README.md).

TRAIN_PY        ?= /usr/bin/python3
TRAIN_RUN       ?= train/runs/default
TRAIN_SMOKE_DIR ?= $(or $(TMPDIR),/tmp)/groupvit-train-smoke
TRAIN_EVAL_DIR  ?= $(OUT)/evalset
TRAIN_TEST      := train-test train-smoke
TRAIN_APT       := python3-torch python3-numpy python3-pil python3-pytest libopenblas0-openmp
# nice: training shares the machine; 1 thread is steadier than 2 on busy cores
TRAIN_NICE      ?= nice -n 10
SUDO            := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: train-deps train train-smoke train-test train-evalset train-eval train-samples

# libopenblas0-openmp matters: without it libblas.so.3 is the reference BLAS and
# a training step is ~8x slower.
train-deps:
	@if ! $(TRAIN_PY) -c 'import torch, numpy, PIL, pytest' 2>/dev/null || \
	    ! dpkg -s libopenblas0-openmp >/dev/null 2>&1; then \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $(TRAIN_APT); \
	fi

# The shipped model: ~65 min on one of 2 shared cores (see train/README.md).
train: train-deps
	cd train && $(TRAIN_NICE) $(TRAIN_PY) train.py --out ../$(TRAIN_RUN) --export ../$(TRAIN_RUN)/hf \
		--steps 6000 --batch 64 --threads 1 --eval-every 500 --eval-n 100
	rm -rf models/default && mkdir -p models/default
	cp $(TRAIN_RUN)/hf/config.json $(TRAIN_RUN)/hf/model.safetensors $(TRAIN_RUN)/hf/vocab.json \
		$(TRAIN_RUN)/hf/merges.txt models/default/

# A few steps, then the path users take: the Go binary converts the exported
# folder and scores it on held-out scenes (CI runs this; it never retrains
# the shipped model).
train-smoke: train-deps build
	rm -rf $(TRAIN_SMOKE_DIR)
	cd train && $(TRAIN_PY) train.py --out $(TRAIN_SMOKE_DIR)/run --export $(TRAIN_SMOKE_DIR)/model \
		--steps 4 --batch 8 --threads 1 --eval-every 4 --eval-n 4
	cd train && $(TRAIN_PY) make_eval_set.py --out $(TRAIN_SMOKE_DIR)/evalset --n 8
	./$(BIN) export --checkpoint $(TRAIN_SMOKE_DIR)/model --precision int8 --calib-count 2 -o $(TRAIN_SMOKE_DIR)/model.tflite
	./$(BIN) eval --model $(TRAIN_SMOKE_DIR)/model.tflite --engine auto --data $(TRAIN_SMOKE_DIR)/evalset --untrained=false \
		--json $(TRAIN_SMOKE_DIR)/eval.json
	./$(BIN) eval --model $(TRAIN_SMOKE_DIR)/model --data $(TRAIN_SMOKE_DIR)/evalset --untrained
	@echo "smoke model: $(TRAIN_SMOKE_DIR)/model, scenes: $(TRAIN_SMOKE_DIR)/evalset"

train-test: train-deps
	$(TRAIN_PY) -m pytest -q train/tests

train-evalset: train-deps
	cd train && $(TRAIN_PY) make_eval_set.py --out $(abspath $(TRAIN_EVAL_DIR)) --n 500

# The Go-side numbers of the shipped model (the README's table).
train-eval: train-evalset build
	./$(BIN) eval --data $(TRAIN_EVAL_DIR) --untrained --json $(OUT)/eval.json

train-samples: train-deps
	cd train && $(TRAIN_PY) make_eval_set.py --samples --out ../testdata/scenes --seed 2 --n 6
