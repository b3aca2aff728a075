package tflite

import (
	"bytes"
	"errors"
	"math/rand"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// These tests run the real TFLite 2.17.1 runtime and the int8 wake-word
// models that ship beside it in the pymicro-wakeword wheel (fetched by
// `make tflite-lib`). Without them the tests skip, except under CI=true,
// where a missing runtime is a failure: CI must exercise it.

func unavailable(t *testing.T, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf(format, args...)
	}
	t.Skipf(format+" (under CI=true this fails)", args...)
}

func openLib(t *testing.T) *Library {
	t.Helper()
	lib, err := Open("")
	if err != nil {
		unavailable(t, "TFLite runtime: %v", err)
	}
	return lib
}

// wheelModel returns the path of one of the wheel's .tflite models, looked
// for in the cache folder and next to the library.
func wheelModel(t *testing.T, lib *Library, name string) string {
	t.Helper()
	var dirs []string
	if d, err := DefaultCacheDir(); err == nil {
		dirs = append(dirs, d)
	}
	if strings.ContainsRune(lib.Path(), '/') {
		dirs = append(dirs, filepath.Dir(lib.Path()))
	}
	for _, d := range dirs {
		p := filepath.Join(d, name)
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	unavailable(t, "model %s not found in %q", name, dirs)
	return ""
}

// wakeWordModels are the four models of pymicro-wakeword 2.5.0: streaming
// int8 convolutional nets, input int8[1,3,40] (three 10 ms feature frames),
// output uint8[1,1] (wake-word probability, scale 1/256), with their state
// in resource variables.
var wakeWordModels = []string{"okay_nabu.tflite", "alexa.tflite", "hey_jarvis.tflite", "hey_mycroft.tflite"}

// stream feeds frames of seeded pseudo-random features through a fresh
// interpreter and returns the output after each frame.
func stream(t *testing.T, lib *Library, m *Model, d *Delegate, frames int) []uint8 {
	t.Helper()
	it, err := lib.NewInterpreter(m, InterpreterOptions{Delegate: d})
	if err != nil {
		t.Fatalf("NewInterpreter: %v", err)
	}
	defer it.Close()
	in, err := it.Input(0)
	if err != nil {
		t.Fatal(err)
	}
	out, err := it.Output(0)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewSource(7))
	frame := make([]int8, in.NumElements())
	res := make([]uint8, 0, frames)
	got := make([]uint8, 1)
	for range frames {
		for i := range frame {
			frame[i] = int8(rng.Intn(256) - 128)
		}
		if err := Write(in, frame); err != nil {
			t.Fatal(err)
		}
		if err := it.Invoke(); err != nil {
			t.Fatalf("Invoke: %v", err)
		}
		if err := Read(out, got); err != nil {
			t.Fatal(err)
		}
		res = append(res, got[0])
	}
	return res
}

func TestWheelModelShapes(t *testing.T) {
	lib := openLib(t)
	if !strings.HasPrefix(lib.Version(), "2.") {
		t.Errorf("Version() = %q, want a 2.x release", lib.Version())
	}
	m, err := lib.NewModelFromFile(wheelModel(t, lib, "okay_nabu.tflite"))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	it, err := lib.NewInterpreter(m, InterpreterOptions{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	if it.InputCount() != 1 || it.OutputCount() != 1 {
		t.Fatalf("inputs/outputs = %d/%d, want 1/1", it.InputCount(), it.OutputCount())
	}
	in, _ := it.Input(0)
	out, _ := it.Output(0)
	if got := in.String(); got != "serving_default_input_audio:0 int8[1 3 40]" {
		t.Errorf("input = %q", got)
	}
	if in.ByteSize() != 120 || out.ByteSize() != 1 {
		t.Errorf("byte sizes = %d, %d; want 120, 1", in.ByteSize(), out.ByteSize())
	}
	if out.Type() != UInt8 || !equalInts(out.Dims(), []int{1, 1}) {
		t.Errorf("output = %s, want uint8[1 1]", out)
	}
	// The quantization parameters come back as a C struct by value; wrong
	// struct-return handling would show up as garbage here.
	if q := out.Quantization(); q != (QuantizationParams{Scale: 1.0 / 256, ZeroPoint: 0}) {
		t.Errorf("output quantization = %+v, want scale 1/256, zero point 0", q)
	}
	if q := in.Quantization(); q.ZeroPoint != -128 || q.Scale < 0.1 || q.Scale > 0.11 {
		t.Errorf("input quantization = %+v, want zero point -128, scale ~0.102", q)
	}
	if _, err := it.Input(1); err == nil {
		t.Error("Input(1) on a one-input model: want an error")
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestDelegatesAgree runs every wheel model without a delegate and with
// XNNPACK on one and two threads. XNNPACK's int8 kernels round differently
// from TFLite's reference kernels, so those may differ by one output step;
// the thread count must not change XNNPACK's results at all; and a repeat
// run must reproduce the first bit for bit.
func TestDelegatesAgree(t *testing.T) {
	lib := openLib(t)
	if !lib.HasXNNPack() {
		t.Fatal("the fetched runtime has no XNNPACK delegate")
	}
	// Few frames: two-thread XNNPACK is slow on an oversubscribed CI box.
	const frames = 16
	nonZero := 0
	for _, name := range wakeWordModels {
		t.Run(name, func(t *testing.T) {
			m, err := lib.NewModelFromFile(wheelModel(t, lib, name))
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			x1, err := lib.NewXNNPackDelegate(XNNPackOptions{Threads: 1})
			if err != nil {
				t.Fatal(err)
			}
			defer x1.Close()
			x2, err := lib.NewXNNPackDelegate(XNNPackOptions{Threads: 2})
			if err != nil {
				t.Fatal(err)
			}
			defer x2.Close()

			ref := stream(t, lib, m, nil, frames)
			again := stream(t, lib, m, nil, frames)
			one := stream(t, lib, m, x1, frames)
			oneAgain := stream(t, lib, m, x1, frames) // a delegate serves interpreters in turn
			two := stream(t, lib, m, x2, frames)

			if !bytes.Equal(ref, again) {
				t.Errorf("built-in kernels not deterministic:\n%v\n%v", ref, again)
			}
			if !bytes.Equal(one, oneAgain) {
				t.Errorf("XNNPACK not deterministic:\n%v\n%v", one, oneAgain)
			}
			if !bytes.Equal(one, two) {
				t.Errorf("XNNPACK 1 vs 2 threads differ:\n%v\n%v", one, two)
			}
			for i := range ref {
				if d := int(ref[i]) - int(one[i]); d < -1 || d > 1 {
					t.Errorf("frame %d: built-in %d vs XNNPACK %d, more than one quantization step apart", i, ref[i], one[i])
				}
				if ref[i] != 0 {
					nonZero++
				}
			}
		})
	}
	// All-zero outputs would make the comparisons above vacuous.
	if nonZero == 0 && !t.Failed() {
		t.Error("every output of every model was 0: the agreement checks compared nothing")
	}
}

// TestDelegationReport checks what Interpreter.Delegation reads from the
// execution plan. The counts are facts about these models under 2.17.1:
// okay_nabu has 61 nodes in its main subgraph plus a 12-node init subgraph
// (run by CALL_ONCE); XNNPACK takes the convolutions but not the streaming
// state ops unless asked to.
func TestDelegationReport(t *testing.T) {
	lib := openLib(t)
	m, err := lib.NewModelFromFile(wheelModel(t, lib, "okay_nabu.tflite"))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()

	plain, err := lib.NewInterpreter(m, InterpreterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	d := plain.Delegation()
	if !d.Known || d.Nodes() != 73 || d.Delegated() != 0 || d.Full() {
		t.Errorf("no delegate: %+v (nodes %d, delegated %d), want 73 nodes, none delegated", d, d.Nodes(), d.Delegated())
	}
	if len(d.Subgraphs) != 2 || d.Subgraphs[0].Nodes != 61 || d.Subgraphs[1].Nodes != 12 {
		t.Errorf("subgraphs = %+v, want 61 and 12 nodes", d.Subgraphs)
	}

	report := func(o XNNPackOptions) Delegation {
		x, err := lib.NewXNNPackDelegate(o)
		if err != nil {
			t.Fatal(err)
		}
		defer x.Close()
		it, err := lib.NewInterpreter(m, InterpreterOptions{Delegate: x})
		if err != nil {
			t.Fatal(err)
		}
		defer it.Close()
		return it.Delegation()
	}
	def := report(XNNPackOptions{Threads: 1})
	main := def.Subgraphs[0]
	if main.Delegated == 0 || main.Delegated >= main.Nodes || len(main.Partitions) == 0 || def.Full() {
		t.Errorf("XNNPACK default: %s; want a partial delegation", def)
	}
	for _, p := range main.Partitions {
		if p != "TfLiteXNNPackDelegate" {
			t.Errorf("partition run by %q, want TfLiteXNNPackDelegate", p)
		}
	}
	if len(main.Remaining) != main.Nodes-main.Delegated {
		t.Errorf("remaining ops %d, want nodes-delegated = %d", len(main.Remaining), main.Nodes-main.Delegated)
	}
	if !hasOp(main.Remaining, 144) { // ASSIGN_VARIABLE stays on the CPU kernels by default
		t.Errorf("ASSIGN_VARIABLE (144) not among the undelegated ops: %v", main.Remaining)
	}
	if !strings.Contains(def.String(), "TfLiteXNNPackDelegate") {
		t.Errorf("String() = %q, want the delegate named", def.String())
	}

	vars := report(XNNPackOptions{Threads: 1, VariableOps: true})
	if vars.Delegated() <= def.Delegated() || hasOp(vars.Subgraphs[0].Remaining, 144) {
		t.Errorf("VariableOps: %s; want more nodes delegated than %d, ASSIGN_VARIABLE among them", vars, def.Delegated())
	}
	if init := vars.Subgraphs[1]; init.Delegated != init.Nodes {
		t.Errorf("VariableOps: init subgraph %+v, want fully delegated", init)
	}
}

func hasOp(ops []Op, code int32) bool {
	for _, o := range ops {
		if o.Builtin == code {
			return true
		}
	}
	return false
}

func TestXNNPackOptionsReachTheLibrary(t *testing.T) {
	lib := openLib(t)
	for _, c := range []struct {
		o       XNNPackOptions
		threads int32
		flags   uint32
	}{
		{XNNPackOptions{Threads: 2}, 2, xnnFlagQS8 | xnnFlagQU8},
		{XNNPackOptions{Threads: 0, VariableOps: true}, 0, xnnFlagQS8 | xnnFlagQU8 | xnnFlagVariableOps},
		{XNNPackOptions{Threads: 3, ForceFP16: true}, 3, xnnFlagQS8 | xnnFlagQU8 | xnnFlagForceFP16},
	} {
		d, err := lib.NewXNNPackDelegate(c.o)
		if err != nil {
			t.Fatal(err)
		}
		threads, flags, ok := d.xnnpackSettings()
		d.Close()
		if !ok || threads != c.threads || flags != c.flags {
			t.Errorf("%+v: delegate holds threads %d flags %#x (ok %v), want %d, %#x", c.o, threads, flags, ok, c.threads, c.flags)
		}
	}
	if _, err := lib.NewXNNPackDelegate(XNNPackOptions{Threads: -1}); err == nil {
		t.Error("negative thread count: want an error")
	}
}

func TestBadModelBytes(t *testing.T) {
	lib := openLib(t)
	good, err := os.ReadFile(wheelModel(t, lib, "okay_nabu.tflite"))
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{
		"truncated":     good[:len(good)/2],
		"header only":   good[:16],
		"garbage":       []byte(strings.Repeat("not a flatbuffer ", 20)),
		"one byte":      {0},
		"zeroed header": append(make([]byte, 8), good[8:]...),
	} {
		m, err := lib.NewModel(data)
		if err == nil {
			m.Close()
			t.Errorf("%s: NewModel succeeded, want an error", name)
			continue
		}
		var te *Error
		if !errors.As(err, &te) || te.Op != "TfLiteModelCreate" {
			t.Errorf("%s: error %v is not a *Error from TfLiteModelCreate", name, err)
			continue
		}
		if !strings.Contains(err.Error(), "not a valid Flatbuffer") {
			t.Errorf("%s: error %q does not carry TFLite's reason", name, err)
		}
	}
	if _, err := lib.NewModel(nil); err == nil {
		t.Error("NewModel(nil): want an error")
	}
	missing := filepath.Join(t.TempDir(), "missing.tflite")
	if _, err := lib.NewModelFromFile(missing); err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("NewModelFromFile(missing) = %v, want an error naming the file", err)
	}
	// The library is still fine after all that.
	m, err := lib.NewModel(good)
	if err != nil {
		t.Fatalf("NewModel(good bytes) after bad ones: %v", err)
	}
	m.Close()
}

// TestReporterDecodesArguments makes TFLite fail inside a kernel, whose
// message is the printf format "%s:%d %s != %s (%d != %d)": the numbers in
// the captured message can only be right if the va_list was decoded.
func TestReporterDecodesArguments(t *testing.T) {
	lib := openLib(t)
	m, err := lib.NewModelFromFile(wheelModel(t, lib, "okay_nabu.tflite"))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	var seen []string
	it, err := lib.NewInterpreter(m, InterpreterOptions{OnError: func(s string) { seen = append(seen, s) }})
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	if err := it.ResizeInput(0, []int{1, 7, 40}); err != nil {
		t.Fatal(err)
	}
	err = it.AllocateTensors()
	var te *Error
	if !errors.As(err, &te) || te.Op != "TfLiteInterpreterAllocateTensors" {
		t.Fatalf("AllocateTensors after a bad resize = %v, want a *Error", err)
	}
	const want = "num_input_elements != num_output_elements (280 != 120)"
	if len(te.Messages) == 0 || !strings.Contains(te.Messages[0], want) || !strings.Contains(te.Messages[0], "reshape.cc:") {
		t.Errorf("messages %q, want the first to contain %q", te.Messages, want)
	}
	if runtime.GOARCH == "amd64" || runtime.GOARCH == "arm64" {
		if !strings.Contains(err.Error(), "Node number 7 (RESHAPE) failed to prepare") {
			t.Errorf("error %q lacks the decoded node message", err)
		}
	}
	if len(seen) != len(te.Messages) {
		t.Errorf("OnError saw %d messages, the error carries %d", len(seen), len(te.Messages))
	}
	// Back to the model's shape, the interpreter recovers, and the error
	// log no longer carries the old messages.
	if err := it.ResizeInput(0, []int{1, 3, 40}); err != nil {
		t.Fatal(err)
	}
	if err := it.AllocateTensors(); err != nil {
		t.Fatalf("AllocateTensors after restoring the shape: %v", err)
	}
	if err := it.Invoke(); err != nil {
		t.Fatalf("Invoke after recovery: %v", err)
	}
	if err := it.ResizeInput(0, []int{1, -3, 40}); err == nil {
		t.Error("negative dimension: want an error")
	}
}

func TestGPUDelegateUnavailable(t *testing.T) {
	lib := openLib(t)
	missing := filepath.Join(t.TempDir(), GPUDelegateLibrary)
	_, err := lib.NewGPUDelegate(GPUOptions{LibraryPath: missing})
	if !errors.Is(err, ErrDelegateUnavailable) || !strings.Contains(err.Error(), missing) ||
		!strings.Contains(err.Error(), "xnnpack") {
		t.Errorf("missing GPU library: %v; want ErrDelegateUnavailable naming the file and the xnnpack alternative", err)
	}
	// A real library that is not a GPU delegate.
	_, err = lib.NewGPUDelegate(GPUOptions{LibraryPath: "libm.so.6"})
	if !errors.Is(err, ErrDelegateUnavailable) || !strings.Contains(err.Error(), "TfLiteGpuDelegateV2Create") {
		t.Errorf("libm as GPU delegate: %v; want ErrDelegateUnavailable naming the missing entry point", err)
	}
	// The default search: the wheel's runtime has no GPU delegate, and a
	// CI box has no libtensorflowlite_gpu_delegate.so. Where one exists,
	// success is fine too.
	d, err := lib.NewGPUDelegate(GPUOptions{})
	if err == nil {
		d.Close()
	} else if !errors.Is(err, ErrDelegateUnavailable) {
		t.Errorf("default GPU delegate: %v; want success or ErrDelegateUnavailable", err)
	}
}

func TestSignatureRunnerMatchesInterpreter(t *testing.T) {
	lib := openLib(t)
	if !lib.HasSignatureRunners() {
		t.Fatal("the fetched runtime has no signature runners")
	}
	m, err := lib.NewModelFromFile(wheelModel(t, lib, "hey_mycroft.tflite"))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	want := stream(t, lib, m, nil, 4)

	it, err := lib.NewInterpreter(m, InterpreterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	if keys := it.Signatures(); len(keys) != 1 || keys[0] != "serving_default" {
		t.Fatalf("Signatures() = %q, want [serving_default]", keys)
	}
	r, err := it.SignatureRunner("serving_default")
	if err != nil {
		t.Fatal(err)
	}
	if in, out := r.Inputs(), r.Outputs(); len(in) != 1 || in[0] != "input_audio" || len(out) != 1 || out[0] != "dense_1" {
		t.Fatalf("signature inputs %q outputs %q, want [input_audio] [dense_1]", in, out)
	}
	in, err := r.Input("input_audio")
	if err != nil {
		t.Fatal(err)
	}
	out, err := r.Output("dense_1")
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewSource(7)) // the same frames stream() feeds
	frame := make([]int8, in.NumElements())
	got := make([]uint8, 1)
	for i := range want {
		for j := range frame {
			frame[j] = int8(rng.Intn(256) - 128)
		}
		if err := Write(in, frame); err != nil {
			t.Fatal(err)
		}
		if err := r.Invoke(); err != nil {
			t.Fatal(err)
		}
		if err := Read(out, got); err != nil {
			t.Fatal(err)
		}
		if got[0] != want[i] {
			t.Errorf("frame %d: signature runner %d, interpreter %d", i, got[0], want[i])
		}
	}
	if _, err := r.Input("nope"); err == nil || !strings.Contains(err.Error(), "input_audio") {
		t.Errorf("unknown input: %v, want an error listing input_audio", err)
	}
	if _, err := it.SignatureRunner("nope"); err == nil || !strings.Contains(err.Error(), "serving_default") {
		t.Errorf("unknown signature: %v, want an error listing serving_default", err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Input("input_audio"); !errors.Is(err, ErrClosed) {
		t.Errorf("Input after runner Close = %v, want ErrClosed", err)
	}
}

func TestTensorChecks(t *testing.T) {
	lib := openLib(t)
	m, err := lib.NewModelFromFile(wheelModel(t, lib, "okay_nabu.tflite"))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	it, err := lib.NewInterpreter(m, InterpreterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	in, _ := it.Input(0)
	if err := in.SetFloat32s(make([]float32, 120)); err == nil || !strings.Contains(err.Error(), "int8") {
		t.Errorf("float32 into int8 tensor: %v, want a type error", err)
	}
	if err := Write(in, make([]int8, 119)); err == nil || !strings.Contains(err.Error(), "120") {
		t.Errorf("119 elements into 120: %v, want a count error", err)
	}
	if err := in.CopyFrom(make([]byte, 121)); err == nil {
		t.Error("CopyFrom with the wrong size: want an error")
	}
	// Raw bytes and typed writes reach the same memory.
	raw := make([]byte, 120)
	for i := range raw {
		raw[i] = byte(i)
	}
	if err := in.CopyFrom(raw); err != nil {
		t.Fatal(err)
	}
	back := make([]int8, 120)
	if err := Read(in, back); err != nil {
		t.Fatal(err)
	}
	if back[119] != 119 || back[5] != 5 {
		t.Errorf("read back %v, want 0..119", back[:8])
	}
	if err := it.Invoke(); err != nil {
		t.Fatal(err)
	}
	out, _ := it.Output(0)
	p, err := out.Dequantize()
	if err != nil || len(p) != 1 || p[0] < 0 || p[0] > 1 {
		t.Errorf("Dequantize = %v, %v; want one probability", p, err)
	}
}

// TestCloseInAnyOrder closes the model and delegate before the interpreter
// that uses them, which must keep working, then checks that everything
// reports ErrClosed afterwards instead of touching freed memory.
func TestCloseInAnyOrder(t *testing.T) {
	lib := openLib(t)
	data, err := os.ReadFile(wheelModel(t, lib, "alexa.tflite"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := lib.NewModel(data)
	if err != nil {
		t.Fatal(err)
	}
	x, err := lib.NewXNNPackDelegate(XNNPackOptions{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	it, err := lib.NewInterpreter(m, InterpreterOptions{Delegate: x})
	if err != nil {
		t.Fatal(err)
	}
	m.Close()
	x.Close()
	m.Close() // idempotent
	runtime.GC()
	if err := it.Invoke(); err != nil {
		t.Fatalf("Invoke with model and delegate closed by their owners: %v", err)
	}
	if _, err := lib.NewInterpreter(m, InterpreterOptions{}); !errors.Is(err, ErrClosed) {
		t.Errorf("NewInterpreter on a closed model = %v, want ErrClosed", err)
	}
	out, _ := it.Output(0)
	if err := it.Close(); err != nil {
		t.Fatal(err)
	}
	if err := it.Close(); err != nil {
		t.Errorf("second Close = %v", err)
	}
	if err := it.Invoke(); !errors.Is(err, ErrClosed) {
		t.Errorf("Invoke after Close = %v, want ErrClosed", err)
	}
	if err := Read(out, make([]uint8, 1)); !errors.Is(err, ErrClosed) {
		t.Errorf("reading a tensor of a closed interpreter = %v, want ErrClosed", err)
	}
	if out.Dims() != nil || out.Type() != NoType {
		t.Error("a tensor of a closed interpreter still reports a shape")
	}
}

func TestOpenManyTimes(t *testing.T) {
	first := openLib(t)
	for range 50 {
		lib, err := Open("")
		if err != nil {
			t.Fatal(err)
		}
		if lib.Version() != first.Version() {
			t.Fatalf("Version() = %q, then %q", first.Version(), lib.Version())
		}
	}
	// A model from one Library runs in an interpreter from another: they
	// share the loaded code.
	other, err := Open(first.Path())
	if err != nil {
		t.Fatal(err)
	}
	m, err := first.NewModelFromFile(wheelModel(t, first, "okay_nabu.tflite"))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	it, err := other.NewInterpreter(m, InterpreterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	if err := it.Invoke(); err != nil {
		t.Fatal(err)
	}
}

// TestNoLeakInLoop creates, runs and closes model, delegate and interpreter
// many times and checks that resident memory stays flat. Each round
// allocates well over 100 KiB in C (arena, packed weights, delegate), so a
// leak would grow RSS by tens of MiB.
func TestNoLeakInLoop(t *testing.T) {
	lib := openLib(t)
	data, err := os.ReadFile(wheelModel(t, lib, "okay_nabu.tflite"))
	if err != nil {
		t.Fatal(err)
	}
	round := func() {
		m, err := lib.NewModel(data)
		if err != nil {
			t.Fatal(err)
		}
		x, err := lib.NewXNNPackDelegate(XNNPackOptions{Threads: 1})
		if err != nil {
			t.Fatal(err)
		}
		it, err := lib.NewInterpreter(m, InterpreterOptions{Delegate: x})
		if err != nil {
			t.Fatal(err)
		}
		if err := it.Invoke(); err != nil {
			t.Fatal(err)
		}
		it.Close()
		x.Close()
		m.Close()
	}
	for range 20 {
		round() // warm up allocator pools
	}
	before := rssKiB(t)
	const rounds = 200
	for range rounds {
		round()
	}
	grown := rssKiB(t) - before
	t.Logf("RSS grew %d KiB over %d rounds", grown, rounds)
	if grown > 8*1024 {
		t.Errorf("RSS grew %d KiB over %d rounds: something is not freed", grown, rounds)
	}
}

func rssKiB(t *testing.T) int {
	t.Helper()
	runtime.GC()
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		t.Skipf("no /proc/self/statm: %v", err)
	}
	f := strings.Fields(string(b))
	pages, err := strconv.Atoi(f[1])
	if err != nil {
		t.Fatal(err)
	}
	return pages * os.Getpagesize() / 1024
}

// TestForgottenCloseDoesNotCrash drops a model and interpreter without
// Close. Their memory leaks, but the garbage collector must not crash the
// program over the Go memory they keep pinned for C.
func TestForgottenCloseDoesNotCrash(t *testing.T) {
	lib := openLib(t)
	data, err := os.ReadFile(wheelModel(t, lib, "okay_nabu.tflite"))
	if err != nil {
		t.Fatal(err)
	}
	func() {
		m, err := lib.NewModel(data)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := lib.NewInterpreter(m, InterpreterOptions{}); err != nil {
			t.Fatal(err)
		}
	}()
	for range 3 {
		runtime.GC()
	}
}

// TestObjectsStayWithTheirLibrary loads a second copy of the runtime from
// another file and checks that a model from one copy is refused by the
// other instead of being handed to C code that would misread it.
func TestObjectsStayWithTheirLibrary(t *testing.T) {
	lib := openLib(t)
	if !strings.ContainsRune(lib.Path(), '/') {
		t.Skipf("library %s was found by name; no file to copy", lib.Path())
	}
	so, err := os.ReadFile(lib.Path())
	if err != nil {
		t.Fatal(err)
	}
	copyPath := filepath.Join(t.TempDir(), "copy", LibraryName)
	if err := os.MkdirAll(filepath.Dir(copyPath), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(copyPath, so, 0o644); err != nil {
		t.Fatal(err)
	}
	other, err := Open(copyPath)
	if err != nil {
		t.Fatal(err)
	}
	if other.handle == lib.handle {
		t.Skip("the dynamic loader reused the first copy")
	}
	m, err := lib.NewModelFromFile(wheelModel(t, lib, "okay_nabu.tflite"))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if it, err := other.NewInterpreter(m, InterpreterOptions{}); err == nil {
		it.Close()
		t.Fatal("interpreter from one library copy accepted a model from another")
	} else if !strings.Contains(err.Error(), copyPath) {
		t.Errorf("error %q does not name the library", err)
	}
}
