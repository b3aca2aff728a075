"""Store the layers an int8 export keeps float in a model's config.json.

    python3 train/keep_float.py MODEL/config.json stages.0.[,NAME...]

The list is the config key groupvit_edge_int8_keep_float, which the Go
exporter and quant-report read (models.Config). It is chosen per model on
validation scenes (mk/train.mk says how), so the training recipe writes it
after calibration rather than the trainer guessing it.
"""
import json
import sys


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__.strip().splitlines()[2].strip())
    path, names = sys.argv[1], [n for n in sys.argv[2].split(",") if n]
    if not names:
        sys.exit("keep_float.py: no layer names given")
    with open(path) as f:
        config = json.load(f)
    config["groupvit_edge_int8_keep_float"] = names
    with open(path, "w") as f:
        f.write(json.dumps(config, indent=2) + "\n")


if __name__ == "__main__":
    main()
