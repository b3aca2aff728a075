// Package export turns a GroupViT checkpoint into one .tflite file: the
// forward pass of package infer is traced (run against an Ops
// implementation that records TFLite operators instead of computing), so the
// graph is the same code the native engine runs. The file carries an
// "image" and a "text" signature and, as metadata, everything needed to use
// it alone: config, tokenizer files, prompt template, input normalisation.
package export

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/groupvit-edge/groupvit-edge/infer"
	"github.com/groupvit-edge/groupvit-edge/models"
	"github.com/groupvit-edge/groupvit-edge/tensor"
	"github.com/groupvit-edge/groupvit-edge/tflite"
)

// Metadata keys in the .tflite file.
const (
	MetaManifest = "groupvit.manifest"
	MetaConfig   = "groupvit.config.json"
	MetaVocab    = "groupvit.vocab.json"
	MetaMerges   = "groupvit.merges.txt"
)

// Signature keys and tensor names: the contract between the exporter and
// the engines that run its files.
const (
	SigImage      = "image"
	SigText       = "text"
	InPatches     = "patches"
	InInputIDs    = "input_ids"
	OutGroups     = "group_embeds"
	OutImage      = "image_embeds"
	OutSoftMap    = "soft_map"
	OutTextEmbeds = "text_embeds"
)

const manifestFormat = "groupvit-edge/tflite/v1"

// defaultTemplate is the prompt template a file records when none is given.
const defaultTemplate = "a photo of a {}."

// Manifest describes an exported file; it is stored as JSON metadata.
type Manifest struct {
	Format    string    `json:"format"`
	ModelID   string    `json:"model_id"`
	Precision Precision `json:"precision"`
	// Quant describes an int8 file's scheme (Quant.String).
	Quant         string `json:"quant,omitempty"`
	InputSize     [2]int `json:"input_size"` // width, height in pixels
	PatchSize     int    `json:"patch_size"`
	Grid          [2]int `json:"grid"` // patch rows, columns
	Groups        int    `json:"groups"`
	EmbedDim      int    `json:"embed_dim"`
	ContextLength int    `json:"context_length"`
	// TextPooling says where the text graph reads the sentence: "argmax"
	// (the largest input id: transformers' rule for the legacy
	// eos_token_id 2 of the released checkpoints) or "eos" (the first
	// eos_token_id of the config). Files from before it was recorded have
	// "" and pool at the largest id.
	TextPooling   string     `json:"text_pooling,omitempty"`
	LogitScaleRaw float32    `json:"logit_scale_raw"`
	Template      string     `json:"template"`
	Mean          [3]float64 `json:"mean"`
	Std           [3]float64 `json:"std"`
	// Outputs says what each signature output holds, for people reading
	// `groupvit inspect`.
	Outputs map[string]string `json:"outputs"`
}

// Source is what gets exported.
type Source struct {
	Model         *infer.Model
	Config        models.Config
	Vocab, Merges []byte
	ModelID       string
}

// Options choose the exported variant.
type Options struct {
	Precision Precision
	Size      int    // input size in pixels (square); 0: the model's own
	Template  string // prompt template recorded for users of the file
	// Quant is how INT8 quantizes; the zero value means DefaultQuant.
	Quant Quant
	// Ranges are the calibrated activation ranges a per-tensor Quant needs
	// (Calibrate).
	Ranges Ranges
	// Skip names rewrites of DefaultLowering(Precision) to leave out, so
	// the graph keeps builtins the GPU accelerator refuses: tests compare
	// outputs with and without them, and a test of the GPU's fallback to
	// the CPU needs an op the GPU leaves.
	Skip Lowering
}

// Build traces both encoders and assembles the model.
func Build(src Source, opt Options) (mod *tflite.Model, err error) {
	m := src.Model
	v := m.Arch.Vision
	size := opt.Size
	if size == 0 {
		size = v.ImageSize
	}
	gh, gw, err := v.Grid(size, size)
	if err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	if want := infer.ArchFromConfig(src.Config).Text; want.PoolEOS != m.Arch.Text.PoolEOS || want.EOSID != m.Arch.Text.EOSID {
		return nil, fmt.Errorf("export: the model pools text as %q but its config says %q", textPooling(m.Arch.Text), textPooling(want))
	}
	q := opt.Quant
	if q.Activations == "" {
		q = DefaultQuant()
	}
	q = q.ForVision(v.GroupTokens).KeepingFloat(src.Config.Int8KeepFloat)
	if opt.Precision == INT8 && q.NeedsRanges() && len(opt.Ranges) == 0 {
		return nil, fmt.Errorf("export: int8 with %s activations needs calibrated activation ranges", q.Activations)
	}
	// Shape mistakes in the traced code panic (as in the eager engine);
	// here they become an error naming the export.
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("export: tracing failed: %v", r)
		}
	}()

	low := DefaultLowering(opt.Precision) &^ opt.Skip
	img := newTracer(SigImage, opt.Precision, q, opt.Ranges, low)
	k := v.Channels * v.PatchSize * v.PatchSize
	patches := img.input(InPatches, tflite.Float32, []int{1, gh * gw, k})
	pos, err := m.PositionEmbedding(gh, gw)
	if err != nil {
		return nil, err
	}
	out := m.EncodeImage(img, patches, img.Const("vision_model.embeddings.position_embeddings", pos), nil)
	img.output(out.GroupEmbeds, OutGroups)
	img.output(out.ImageEmbed, OutImage)
	img.output(out.SoftMap, OutSoftMap)

	txt := newTracer(SigText, opt.Precision, q, opt.Ranges, low)
	ctxLen := m.Arch.Text.Context
	ids := txt.input(InInputIDs, tflite.Int32, []int{1, ctxLen})
	txt.output(m.EncodeText(txt, ids, nil).Embeds, OutTextEmbeds)

	sig := func(key string, idx int, t *tracer) tflite.Signature {
		s := tflite.Signature{Key: key, Subgraph: idx}
		for _, i := range t.sg.Inputs {
			s.Inputs = append(s.Inputs, tflite.TensorMap{Name: t.sg.Tensors[i].Name, Tensor: i})
		}
		for _, o := range t.sg.Outputs {
			s.Outputs = append(s.Outputs, tflite.TensorMap{Name: t.sg.Tensors[o].Name, Tensor: o})
		}
		return s
	}
	tmpl := opt.Template
	if tmpl == "" {
		tmpl = defaultTemplate
	}
	man := Manifest{
		Format: manifestFormat, ModelID: src.ModelID, Precision: opt.Precision,
		InputSize: [2]int{size, size}, PatchSize: v.PatchSize, Grid: [2]int{gh, gw},
		Groups: v.FinalGroups(), EmbedDim: m.Arch.ProjDim, ContextLength: ctxLen, TextPooling: textPooling(m.Arch.Text),
		LogitScaleRaw: m.LogitRaw, Template: tmpl, Mean: infer.ImageNet.Mean, Std: infer.ImageNet.Std,
		Outputs: map[string]string{
			InPatches:     fmt.Sprintf("float32 [1, %d, %d]: normalised RGB as non-overlapping %dx%d patches, row-major grid, each (channel, y, x)", gh*gw, k, v.PatchSize, v.PatchSize),
			OutGroups:     "float32 [1, G, D]: projected final group embeddings, unit length",
			OutImage:      "float32 [1, D]: projected pooled image embedding, unit length",
			OutSoftMap:    "float32 [1, N, G]: chained soft assignment of each patch to the final groups",
			InInputIDs:    fmt.Sprintf("int32 [1, %d]: CLIP token ids, start and end tokens, zero padded", ctxLen),
			OutTextEmbeds: "float32 [1, D]: projected text embedding, unit length",
		},
	}
	if opt.Precision == INT8 {
		man.Quant = q.String()
	}
	manJSON, err := json.MarshalIndent(man, "", "  ")
	if err != nil {
		return nil, err
	}
	cfgJSON, err := src.Config.EncodeJSON()
	if err != nil {
		return nil, err
	}
	return &tflite.Model{
		Description: "groupvit-edge export (" + string(opt.Precision) + ")",
		Subgraphs:   []*tflite.Subgraph{img.sg, txt.sg},
		Signatures:  []tflite.Signature{sig(SigImage, 0, img), sig(SigText, 1, txt)},
		Metadata: map[string][]byte{
			MetaManifest: manJSON, MetaConfig: cfgJSON, MetaVocab: src.Vocab, MetaMerges: src.Merges,
		},
	}, nil
}

// textPooling names a text pooling rule for the manifest.
func textPooling(t infer.TextArch) string {
	if t.PoolEOS {
		return "eos"
	}
	return "argmax"
}

// ReadManifest extracts and checks the manifest of an exported model.
func ReadManifest(m *tflite.Model) (*Manifest, error) {
	b, ok := m.Metadata[MetaManifest]
	if !ok {
		return nil, fmt.Errorf("not a groupvit-edge model: no %q metadata (was it exported by `groupvit export`?)", MetaManifest)
	}
	var man Manifest
	if err := json.Unmarshal(b, &man); err != nil {
		return nil, fmt.Errorf("groupvit manifest: %w", err)
	}
	if man.Format != manifestFormat {
		return nil, fmt.Errorf("groupvit manifest format %q, this binary reads %q", man.Format, manifestFormat)
	}
	if err := man.checkSizes(); err != nil {
		return nil, fmt.Errorf("groupvit manifest: %w", err)
	}
	for _, s := range []struct {
		key     string
		in, out []string
	}{{SigImage, []string{InPatches}, []string{OutGroups, OutImage, OutSoftMap}}, {SigText, []string{InInputIDs}, []string{OutTextEmbeds}}} {
		sig := findSignature(m, s.key)
		if sig == nil {
			return nil, fmt.Errorf("model has no %q signature (it has %s)", s.key, signatureKeys(m))
		}
		for _, n := range s.in {
			if !hasTensorMap(sig.Inputs, n) {
				return nil, fmt.Errorf("signature %q has no input %q", s.key, n)
			}
		}
		for _, n := range s.out {
			if !hasTensorMap(sig.Outputs, n) {
				return nil, fmt.Errorf("signature %q has no output %q", s.key, n)
			}
		}
	}
	return &man, nil
}

// checkSizes refuses sizes that do not describe the model a file can hold:
// engines size buffers and loops by them before running anything.
func (man *Manifest) checkSizes() error {
	p, w, h := man.PatchSize, man.InputSize[0], man.InputSize[1]
	switch {
	case p < 1 || p > models.MaxImageSize:
		return fmt.Errorf("patch size %d is outside [1, %d]", p, models.MaxImageSize)
	case w < p || h < p || w > models.MaxImageSize || h > models.MaxImageSize || w%p != 0 || h%p != 0:
		return fmt.Errorf("input size %dx%d is not a multiple of the %d px patch within [%d, %d]", w, h, p, p, models.MaxImageSize)
	case man.Grid != [2]int{h / p, w / p}:
		return fmt.Errorf("grid %v does not match input %dx%d in %d px patches", man.Grid, w, h, p)
	case man.ContextLength < 1 || man.ContextLength > 4096:
		return fmt.Errorf("context length %d is outside [1, 4096]", man.ContextLength)
	case man.Groups < 0 || man.Groups > 4096 || man.EmbedDim < 0 || man.EmbedDim > 16384:
		return fmt.Errorf("%d groups of dimension %d are outside [0, 4096] x [0, 16384]", man.Groups, man.EmbedDim)
	}
	return nil
}

func findSignature(m *tflite.Model, key string) *tflite.Signature {
	for i := range m.Signatures {
		if m.Signatures[i].Key == key {
			return &m.Signatures[i]
		}
	}
	return nil
}

func signatureKeys(m *tflite.Model) string {
	if len(m.Signatures) == 0 {
		return "none"
	}
	s := ""
	for i, sig := range m.Signatures {
		if i > 0 {
			s += ", "
		}
		s += fmt.Sprintf("%q", sig.Key)
	}
	return s
}

func hasTensorMap(ms []tflite.TensorMap, name string) bool {
	for _, m := range ms {
		if m.Name == name {
			return true
		}
	}
	return false
}

// Loaded is an exported file opened for the native engine.
type Loaded struct {
	Manifest      *Manifest
	Config        models.Config
	Vocab, Merges []byte
	Model         *infer.Model
}

// Info is what an exported file says about itself: enough to run it on
// the TFLite runtime, which needs no weights on the Go side.
type Info struct {
	Manifest      *Manifest
	Config        models.Config
	Vocab, Merges []byte
}

// ReadInfo reads the manifest, config and tokenizer files of an exported
// model.
func ReadInfo(m *tflite.Model) (*Info, error) {
	man, err := ReadManifest(m)
	if err != nil {
		return nil, err
	}
	cfg, err := models.ParseConfig(m.Metadata[MetaConfig])
	if err != nil {
		return nil, fmt.Errorf("model config metadata: %w", err)
	}
	// The graph pools as it was traced; the config must say the same, or
	// the native engine would run this file differently from TFLite.
	// Files from before the field was written say nothing and pool at the
	// largest id (Load runs them so).
	if want := textPooling(infer.ArchFromConfig(cfg).Text); man.TextPooling != "" && man.TextPooling != want {
		return nil, fmt.Errorf("groupvit manifest says text_pooling %q but its config's eos_token_id %d says %q", man.TextPooling, cfg.Text.EOSTokenID, want)
	}
	return &Info{Manifest: man, Config: cfg, Vocab: m.Metadata[MetaVocab], Merges: m.Metadata[MetaMerges]}, nil
}

// Load reads an exported model back into the native forward pass: every
// constant named after a weight is dequantized to float32, so the same file
// runs without the TFLite library (fp16 and int8 weights keep their
// rounding; int8 activations are not simulated).
func Load(m *tflite.Model) (*Loaded, error) {
	info, err := ReadInfo(m)
	if err != nil {
		return nil, err
	}
	man, cfg := info.Manifest, info.Config
	weights := map[string]*tensor.Tensor{}
	for _, sg := range m.Subgraphs {
		for _, t := range sg.Tensors {
			if t.Data == nil {
				continue
			}
			name := strings.TrimSuffix(t.Name, "/fp16")
			if _, seen := weights[name]; seen {
				continue
			}
			f, err := dequantize(t)
			if err != nil {
				return nil, fmt.Errorf("tensor %q: %w", t.Name, err)
			}
			if f != nil {
				weights[name] = f
			}
		}
	}
	// The second table of an int8 pair (lookupInt8Pair) refines the first.
	for name, lo := range weights {
		base, ok := strings.CutSuffix(name, ResidualSuffix)
		if !ok {
			continue
		}
		hi, ok := weights[base]
		if !ok || len(hi.Data) != len(lo.Data) {
			return nil, fmt.Errorf("tensor %q: no table %q of its size to refine", name, base)
		}
		for i, v := range lo.Data {
			hi.Data[i] += v
		}
		delete(weights, name)
	}
	weights["logit_scale"] = &tensor.Tensor{Shape: []int{}, Data: []float32{man.LogitScaleRaw}}
	arch := infer.ArchFromConfig(cfg)
	arch.Vision.ImageSize = man.InputSize[0]
	arch.Text.PoolEOS = man.TextPooling == "eos" // as the graph was traced
	model, err := infer.NewPreparedModel(arch, func(name string) (*tensor.Tensor, error) {
		w, ok := weights[name]
		if !ok {
			return nil, fmt.Errorf("not in the .tflite file")
		}
		return w, nil
	})
	if err != nil {
		return nil, err
	}
	return &Loaded{Manifest: man, Config: cfg, Vocab: info.Vocab, Merges: info.Merges, Model: model}, nil
}
