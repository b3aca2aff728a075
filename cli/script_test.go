package cli

import (
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/groupvit-edge/groupvit-edge/infer/tflite"
	"github.com/groupvit-edge/groupvit-edge/internal/npy"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"groupvit": func() { os.Exit(Main(os.Args[1:], os.Stdout, os.Stderr)) },
	})
}

// TestScripts runs the command end to end from testdata/script/*.txtar, as
// a user would, with $FIXTURE pointing at the shared reference fixture.
func TestScripts(t *testing.T) {
	fixture, err := filepath.Abs("../../shared/fixtures/groupvit-tiny")
	if err != nil {
		t.Fatal(err)
	}
	// Scripts run with a bare environment (HOME=/no-home), so the TFLite
	// runtime is located here once and handed over. Under CI it must exist:
	// make test fetches it.
	tfliteLib := ""
	if lib, err := tflite.Open(""); err == nil {
		tfliteLib = lib.Path()
	} else if os.Getenv("CI") == "true" {
		t.Fatalf("TFLite runtime missing under CI: %v", err)
	} else {
		t.Logf("TFLite runtime missing, scripts marked [tflite] are skipped: %v", err)
	}
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(env *testscript.Env) error {
			env.Setenv("FIXTURE", fixture)
			env.Setenv("GROUPVIT_CACHE", filepath.Join(env.WorkDir, ".cache"))
			env.Setenv("GROUPVIT_TFLITE_LIB", tfliteLib)
			return nil
		},
		Condition: func(cond string) (bool, error) {
			if cond == "tflite" {
				return tfliteLib != "", nil
			}
			return false, fmt.Errorf("unknown condition %q", cond)
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"maskeq":  maskEqualsNPY,
			"npy2png": npyToPNG,
		},
	})
}

// maskEqualsNPY compares a label mask PNG with an int64 .npy label map pixel
// for pixel: maskeq mask.png ref.npy
func maskEqualsNPY(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: maskeq mask.png ref.npy")
	}
	f, err := os.Open(ts.MkAbs(args[0]))
	ts.Check(err)
	defer f.Close()
	img, err := png.Decode(f)
	ts.Check(err)
	gray, ok := img.(*image.Gray)
	if !ok {
		ts.Fatalf("%s is %T, want an 8-bit grey PNG", args[0], img)
	}
	ref, err := npy.ReadFile(ts.MkAbs(args[1]))
	ts.Check(err)
	b := gray.Bounds()
	if len(ref.Shape) != 2 || ref.Shape[0] != b.Dy() || ref.Shape[1] != b.Dx() {
		ts.Fatalf("mask is %dx%d, reference shape %v", b.Dx(), b.Dy(), ref.Shape)
	}
	diff := 0
	first := ""
	for y := 0; y < b.Dy(); y++ {
		for x := 0; x < b.Dx(); x++ {
			if int64(gray.GrayAt(x, y).Y) != ref.I64[y*b.Dx()+x] {
				if diff == 0 {
					first = fmt.Sprintf("(%d,%d): %d vs %d", x, y, gray.GrayAt(x, y).Y, ref.I64[y*b.Dx()+x])
				}
				diff++
			}
		}
	}
	if neg && diff == 0 {
		ts.Fatalf("mask equals the reference")
	}
	if !neg && diff > 0 {
		ts.Fatalf("%d pixels differ from the reference, first at %s", diff, first)
	}
}

// npyToPNG writes an int64 .npy label map as an 8-bit grey PNG:
// npy2png ref.npy out.png
func npyToPNG(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: npy2png ref.npy out.png")
	}
	a, err := npy.ReadFile(ts.MkAbs(args[0]))
	ts.Check(err)
	h, w := a.Shape[0], a.Shape[1]
	g := image.NewGray(image.Rect(0, 0, w, h))
	for i, v := range a.I64 {
		g.Pix[i] = uint8(v)
	}
	f, err := os.Create(ts.MkAbs(args[1]))
	ts.Check(err)
	ts.Check(png.Encode(f, g))
	ts.Check(f.Close())
}
