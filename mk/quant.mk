# mk/quant.mk — int8 fidelity measurements (included by the top-level Makefile).
#
#   make quant-report-full   the full gcc-yfcc architecture with random weights
#                            (seed 0) on 20 synthetic scenes: float16 weights
#                            against float32, then the default int8 scheme with
#                            --attribute (where its error comes from)
#   make quant-report-evalset the embedded model on its 500 test scenes
#                            (make train-evalset): the README's 99.5 % bar
#
# Minutes each on 2 cores (the attribution about 20 min); the outputs land in
# $(OUT)/quant-*.txt.

QUANT_FULL_DIR ?= $(OUT)/gcc-yfcc-seed0
TRAIN_EVAL_DIR ?= $(OUT)/evalset

.PHONY: quant-report-full quant-report-evalset

$(QUANT_FULL_DIR)/config.json: | build
	mkdir -p $(OUT)
	./$(BIN) init-model --config gcc-yfcc --seed 0 --out $(QUANT_FULL_DIR)

quant-report-full: build $(QUANT_FULL_DIR)/config.json
	./$(BIN) quant-report --checkpoint $(QUANT_FULL_DIR) --calib-count 20 --int8-layers none --int8-half-floats > $(OUT)/quant-full-fp16.txt && cat $(OUT)/quant-full-fp16.txt
	./$(BIN) quant-report --checkpoint $(QUANT_FULL_DIR) --calib-count 20 --attribute > $(OUT)/quant-full-attribution.txt && cat $(OUT)/quant-full-attribution.txt

quant-report-evalset: build
	@test -f $(TRAIN_EVAL_DIR)/index.json || { echo "no test scenes in $(TRAIN_EVAL_DIR): run make train-evalset"; exit 1; }
	./$(BIN) quant-report --calib $(TRAIN_EVAL_DIR)/images --calib-count 500 > $(OUT)/quant-evalset.txt && cat $(OUT)/quant-evalset.txt
