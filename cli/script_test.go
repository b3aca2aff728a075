package cli

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/groupvit-edge/groupvit-edge/infer/litert"
	"github.com/groupvit-edge/groupvit-edge/infer/tflite"
	"github.com/groupvit-edge/groupvit-edge/internal/npy"
	"github.com/groupvit-edge/groupvit-edge/internal/swiftshader"
	"github.com/groupvit-edge/groupvit-edge/internal/tflitecraft"
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
	liteLib := ""
	if lib, err := litert.Open(""); err == nil {
		liteLib = lib.Path()
	} else if os.Getenv("CI") == "true" {
		t.Fatalf("LiteRT runtime missing under CI: %v", err)
	} else {
		t.Logf("LiteRT runtime missing, scripts marked [litert] are skipped: %v", err)
	}
	// [gpu] scripts run LiteRT's GPU accelerator on SwiftShader: they set
	// VK_ICD_FILENAMES=$SWIFTSHADER_ICD themselves, so the others keep
	// the machine's own (here: no) Vulkan device.
	sw, swErr := swiftshader.Prepare(t.TempDir())
	if swErr != nil && os.Getenv("CI") == "true" {
		t.Fatalf("SwiftShader missing under CI: %v", swErr)
	}
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(env *testscript.Env) error {
			env.Setenv("FIXTURE", fixture)
			env.Setenv("GROUPVIT_CACHE", filepath.Join(env.WorkDir, ".cache"))
			env.Setenv("GROUPVIT_TFLITE_LIB", tfliteLib)
			env.Setenv("GROUPVIT_LITERT_LIB", liteLib)
			env.Setenv("SWIFTSHADER_ICD", sw.ICD)
			env.Setenv("XDG_RUNTIME_DIR", sw.RuntimeDir)
			return nil
		},
		Condition: func(cond string) (bool, error) {
			switch cond {
			case "tflite":
				return tfliteLib != "", nil
			case "litert":
				return liteLib != "", nil
			case "gpu":
				return liteLib != "" && swErr == nil, nil
			}
			return false, fmt.Errorf("unknown condition %q", cond)
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"maskeq":      maskEqualsNPY,
			"npy2png":     npyToPNG,
			"mjpegframes": mjpegFrames,
			"elfstub":     elfStub,
			"hostile":     writeHostile,
			"legacyckpt":  legacyCheckpoint,
			"embclose":    embeddingsClose,
		},
	})
}

// writeHostile makes the crafted inputs an attacker would hand the command:
//
//	hostile fifo PATH              a FIFO (reading it would block for ever)
//	hostile hugejpeg SRC.png PATH  a JPEG whose header says 60000x60000
//	hostile bigpng W H PATH        a blank W×H PNG
//	hostile badtflite PATH         a .tflite whose subgraph input is a weight
//	hostile evilname SRC DIR       a copy of SRC named with a newline and an ANSI escape
func writeHostile(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: hostile fifo|hugejpeg|evilname ...")
	}
	switch args[0] {
	case "fifo":
		ts.Check(syscall.Mkfifo(ts.MkAbs(args[1]), 0o600))
	case "hugejpeg":
		f, err := os.Open(ts.MkAbs(args[1]))
		ts.Check(err)
		img, err := png.Decode(f)
		f.Close()
		ts.Check(err)
		var b bytes.Buffer
		ts.Check(jpeg.Encode(&b, img, nil))
		data := b.Bytes()
		i := bytes.Index(data, []byte{0xff, 0xc0})
		if i < 0 {
			ts.Fatalf("no SOF0 marker")
		}
		const side = 60000
		data[i+5], data[i+6], data[i+7], data[i+8] = side>>8, side&0xff, side>>8, side&0xff
		ts.Check(os.WriteFile(ts.MkAbs(args[2]), data, 0o644))
	case "bigpng": // hostile bigpng W H PATH: a plain image of that size
		w, err := strconv.Atoi(args[1])
		ts.Check(err)
		h, err := strconv.Atoi(args[2])
		ts.Check(err)
		f, err := os.Create(ts.MkAbs(args[3]))
		ts.Check(err)
		ts.Check(png.Encode(f, image.NewGray(image.Rect(0, 0, w, h))))
		ts.Check(f.Close())
	case "badtflite": // subgraph input pointing at a weight
		ts.Check(os.WriteFile(ts.MkAbs(args[1]), tflitecraft.Build(tflitecraft.Graph{Inputs: []int32{1}, Outputs: []int32{2}}), 0o644))
	case "evilname":
		data, err := os.ReadFile(ts.MkAbs(args[1]))
		ts.Check(err)
		ts.Check(os.WriteFile(filepath.Join(ts.MkAbs(args[2]), "evil\x1b[31mred\nforged line.png"), data, 0o644))
	default:
		ts.Fatalf("unknown hostile kind %q", args[0])
	}
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

// mjpegFrames checks that a raw MJPEG file (JPEG images back to back) holds
// exactly N images, each decodable, and all WxH when a size is given:
// mjpegframes FILE N [WxH]
func mjpegFrames(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 || len(args) > 3 {
		ts.Fatalf("usage: mjpegframes FILE N [WxH]")
	}
	data, err := os.ReadFile(ts.MkAbs(args[0]))
	ts.Check(err)
	want, err := strconv.Atoi(args[1])
	ts.Check(err)
	frames, err := splitJPEGs(data)
	if err != nil {
		ts.Fatalf("%s: %v", args[0], err)
	}
	if len(frames) != want {
		ts.Fatalf("%s holds %d JPEG frames, want %d", args[0], len(frames), want)
	}
	for i, f := range frames {
		img, err := jpeg.Decode(bytes.NewReader(f))
		if err != nil {
			ts.Fatalf("%s frame %d: %v", args[0], i, err)
		}
		if len(args) == 3 {
			if got := fmt.Sprintf("%dx%d", img.Bounds().Dx(), img.Bounds().Dy()); got != args[2] {
				ts.Fatalf("%s frame %d is %s, want %s", args[0], i, got, args[2])
			}
		}
	}
}

// splitJPEGs cuts concatenated JPEG images apart by walking their marker
// segments, rather than searching for the end-of-image bytes, which may
// also occur inside a header segment.
func splitJPEGs(data []byte) ([][]byte, error) {
	var frames [][]byte
	for len(data) > 0 {
		n, err := jpegLength(data)
		if err != nil {
			return nil, fmt.Errorf("frame %d: %w", len(frames), err)
		}
		frames = append(frames, data[:n])
		data = data[n:]
	}
	return frames, nil
}

// jpegLength returns the length of the JPEG image at the start of data,
// through its end-of-image marker.
func jpegLength(data []byte) (int, error) {
	if len(data) < 2 || data[0] != 0xFF || data[1] != 0xD8 {
		return 0, errors.New("no start-of-image marker")
	}
	i := 2
	for i+4 <= len(data) {
		if data[i] != 0xFF {
			return 0, fmt.Errorf("no marker at byte %d", i)
		}
		marker := data[i+1]
		switch {
		case marker == 0xD9:
			return i + 2, nil
		case marker == 0xFF: // fill byte
			i++
			continue
		case marker >= 0xD0 && marker <= 0xD7: // restart marker, no length
			i += 2
			continue
		}
		i += 2 + (int(data[i+2])<<8 | int(data[i+3]))
		if marker == 0xDA { // start of scan: skip the entropy-coded data
			for i+1 < len(data) && (data[i] != 0xFF || data[i+1] == 0x00 || (data[i+1] >= 0xD0 && data[i+1] <= 0xD7)) {
				i++
			}
		}
	}
	if i+2 <= len(data) && data[i] == 0xFF && data[i+1] == 0xD9 {
		return i + 2, nil
	}
	return 0, errors.New("truncated: no end-of-image marker")
}

// The MJPEG splitter behind mjpegframes, on images whose sizes it must
// find exactly, including a low-quality one whose tables hold 0xFF bytes.
func TestSplitJPEGs(t *testing.T) {
	var all bytes.Buffer
	var sizes []int
	for i, q := range []int{90, 1, 50} {
		img := image.NewRGBA(image.Rect(0, 0, 24+8*i, 16))
		for j := range img.Pix {
			img.Pix[j] = uint8(j * (i + 7))
		}
		n := all.Len()
		if err := jpeg.Encode(&all, img, &jpeg.Options{Quality: q}); err != nil {
			t.Fatal(err)
		}
		sizes = append(sizes, all.Len()-n)
	}
	frames, err := splitJPEGs(all.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if len(frames) != len(sizes) {
		t.Fatalf("%d frames, want %d", len(frames), len(sizes))
	}
	for i, f := range frames {
		if len(f) != sizes[i] {
			t.Errorf("frame %d is %d bytes, want %d", i, len(f), sizes[i])
		}
	}
	if _, err := splitJPEGs(all.Bytes()[:all.Len()-1]); err == nil {
		t.Error("a truncated last frame was accepted")
	}
	if _, err := splitJPEGs([]byte("not a jpeg")); err == nil {
		t.Error("garbage was accepted")
	}
}

// elfStub writes the 64-byte ELF header of a shared library for another
// machine, all a loader reads before refusing it: elfstub aarch64|x86_64 FILE
func elfStub(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: elfstub aarch64|x86_64 FILE")
	}
	machine := map[string]uint16{"aarch64": 183, "x86_64": 62}[args[0]]
	if machine == 0 {
		ts.Fatalf("elfstub: unknown machine %q", args[0])
	}
	h := make([]byte, 64)
	copy(h, "\x7fELF\x02\x01\x01")
	h[16], h[20], h[52] = 3, 1, 64 // ET_DYN, version 1, header size
	h[18], h[19] = byte(machine), byte(machine>>8)
	p := ts.MkAbs(args[1])
	ts.Check(os.MkdirAll(filepath.Dir(p), 0o755))
	ts.Check(os.WriteFile(p, h, 0o644))
}
