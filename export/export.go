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

// Manifest describes an exported file; it is stored as JSON metadata.
type Manifest struct {
	Format    string    `json:"format"`
	ModelID   string    `json:"model_id"`
	Precision Precision `json:"precision"`
	// Quant describes an int8 file's scheme (Quant.String).
	Quant         string     `json:"quant,omitempty"`
	InputSize     [2]int     `json:"input_size"` // width, height in pixels
	PatchSize     int        `json:"patch_size"`
	Grid          [2]int     `json:"grid"` // patch rows, columns
	Groups        int        `json:"groups"`
	EmbedDim      int        `json:"embed_dim"`
	ContextLength int        `json:"context_length"`
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
	q := opt.Quant
	if q.Activations == "" {
		q = DefaultQuant()
	}
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

	img := newTracer(SigImage, opt.Precision, q, opt.Ranges)
	img.gpu = opt.Precision == FP16 // the GPU delegate's precision
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

	txt := newTracer(SigText, opt.Precision, q, opt.Ranges)
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
		tmpl = "a photo of a {}."
	}
	man := Manifest{
		Format: manifestFormat, ModelID: src.ModelID, Precision: opt.Precision,
		InputSize: [2]int{size, size}, PatchSize: v.PatchSize, Grid: [2]int{gh, gw},
		Groups: v.FinalGroups(), EmbedDim: m.Arch.ProjDim, ContextLength: ctxLen,
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
			name := t.Name
			if len(name) > 5 && name[len(name)-5:] == "/fp16" {
				name = name[:len(name)-5]
			}
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
	weights["logit_scale"] = &tensor.Tensor{Shape: []int{}, Data: []float32{man.LogitScaleRaw}}
	arch := infer.ArchFromConfig(cfg)
	arch.Vision.ImageSize = man.InputSize[0]
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
