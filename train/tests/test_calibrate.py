"""The background-threshold calibration: the best threshold wins, a tie goes
to the higher one, and it lands in config.json without disturbing the rest,
with the refinement it was calibrated under."""
import json

import pytest

from calibrate import CROP_KEY, KEY, REFINE_KEY, best_threshold, write_threshold


def test_best_threshold_and_ties():
    miou = {0.1: 0.30, 0.2: 0.41, 0.5: 0.41, 0.9: 0.35}
    asked = []

    def score(t):
        asked.append(t)
        return miou[t]

    best, scores = best_threshold(score, (0.1, 0.2, 0.5, 0.9))
    assert asked == [0.1, 0.2, 0.5, 0.9] and scores == miou
    assert best == 0.5  # 0.2 and 0.5 tie: the one nearer the official 0.9


def test_write_threshold_keeps_the_config(tmp_path):
    config = {"model_type": "groupvit", "vision_config": {"image_size": 128}}
    (tmp_path / "config.json").write_text(json.dumps(config))
    write_threshold(tmp_path, 0.16)
    got = json.loads((tmp_path / "config.json").read_text())
    assert got == dict(config, **{KEY: 0.16})
    write_threshold(tmp_path, 0.2)  # recalibrating replaces it
    assert json.loads((tmp_path / "config.json").read_text())[KEY] == 0.2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.json"]  # no temporary file left


def test_write_threshold_stores_the_decode_it_was_scored_with(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "groupvit"}))
    write_threshold(tmp_path, 0.16, refine=1.5, crop_names=True)
    got = json.loads((tmp_path / "config.json").read_text())
    assert got == {"model_type": "groupvit", KEY: 0.16, REFINE_KEY: 1.5, CROP_KEY: True}
    # calibrated again for the official decode: the old decode keys must not stay behind
    write_threshold(tmp_path, 0.3)
    got = json.loads((tmp_path / "config.json").read_text())
    assert got == {"model_type": "groupvit", KEY: 0.3}


def test_best_decode_keeps_the_simplest_of_equals(monkeypatch):
    import calibrate
    miou = {(0.0, False): {0.1: 0.50, 0.9: 0.40}, (1.5, False): {0.1: 0.55, 0.9: 0.42},
            (0.0, True): {0.1: 0.55, 0.9: 0.30}, (1.5, True): {0.1: 0.54, 0.9: 0.30}}
    monkeypatch.setattr(calibrate, "score_with_binary",
                        lambda binary, model, data, refine=0.0, crop_names=False, plain=None: lambda t: miou[(refine, crop_names)][t])
    best, table = calibrate.best_decode("bin", "m", "d", [1.5], True, (0.1, 0.9))
    assert best == (1.5, False, 0.1)  # 0.55 twice: refinement alone is simpler than crop naming
    assert set(table) == set(miou)
    best, table = calibrate.best_decode("bin", "m", "d", [1.5], False, (0.1, 0.9))
    assert set(table) == {(0.0, False), (1.5, False)}  # crop naming is only tried when asked for


def test_best_decode_chooses_among_radii(monkeypatch):
    import calibrate
    miou = {0.0: {0.1: 0.40}, 1.0: {0.1: 0.50}, 2.0: {0.1: 0.56}, 3.0: {0.1: 0.56}}
    monkeypatch.setattr(calibrate, "score_with_binary",
                        lambda binary, model, data, refine=0.0, crop_names=False, plain=None: lambda t: miou[refine][t])
    best, table = calibrate.best_decode("bin", "m", "d", [3.0, 1.0, 2.0], False, (0.1,))
    assert best == (2.0, False, 0.1)  # 2 and 3 tie: the smaller radius is the simpler decode
    assert set(table) == {(r, False) for r in miou}


def test_several_radii_need_try_decodes(monkeypatch, capsys):
    import calibrate
    monkeypatch.setattr("sys.argv", ["calibrate.py", "--model", "m", "--data", "d", "--refine", "1,2"])
    with pytest.raises(SystemExit):
        calibrate.main()
    assert "--try-decodes" in capsys.readouterr().err


def test_plain_checks_count_as_much_as_the_miou(monkeypatch):
    import calibrate
    seen = {}

    def fake_eval(cmd, **kw):  # `groupvit eval ... --json OUT`: writes the mIoU
        with open(cmd[cmd.index("--json") + 1], "w") as f:
            json.dump({"methods": {"groupvit": {"miou": 0.6}}}, f)

    def fake_checks(binary, model, data, flags, tmp):
        seen["flags"], seen["data"] = flags, data
        return [{"pass": p} for p in (True, True, True, False)]

    monkeypatch.setattr(calibrate.subprocess, "run", fake_eval)
    monkeypatch.setattr(calibrate, "plain_checks", fake_checks)
    assert calibrate.score_with_binary("bin", "m", "d", 3.0)(0.2) == pytest.approx(0.6)
    assert "flags" not in seen  # no plain set: the mIoU alone
    assert calibrate.score_with_binary("bin", "m", "d", 3.0, plain="checks")(0.2) == pytest.approx((0.6 + 0.75) / 2)
    assert seen["data"] == "checks"
    assert seen["flags"] == ["--bg-thresh", "0.2", "--refine", "3.0", "--crop-names=false"]  # the decode scored
