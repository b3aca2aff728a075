package labels

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/groupvit-edge/groupvit-edge/internal/atomicfile"
	"github.com/groupvit-edge/groupvit-edge/internal/safeio"
)

// EmbeddingFile holds precomputed label embeddings, so a board too small to
// run the text encoder can still take labels (`groupvit embed-labels`
// writes it, `groupvit run --label-embeddings` reads it).
type EmbeddingFile struct {
	Format    string      `json:"format"`
	Model     string      `json:"model"` // fingerprint of the model that computed them
	Templates []string    `json:"templates"`
	Dim       int         `json:"dim"`
	Labels    []string    `json:"labels"`
	Embeds    [][]float32 `json:"embeddings"`
}

const embeddingFormat = "groupvit-edge/label-embeddings/v1"

// WriteEmbeddingFile writes f as JSON, atomically.
func WriteEmbeddingFile(path string, f *EmbeddingFile) error {
	f.Format = embeddingFormat
	if err := f.check(); err != nil {
		return err
	}
	b, err := json.Marshal(f)
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(path, b, false)
}

// Limits of an embeddings file: the 8-bit label mask holds 255 labels, and
// no GroupViT projects to more than a few thousand dimensions.
const (
	maxEmbedLabels = 255
	maxEmbedDim    = 16384
	// maxEmbeddingFileBytes: every value written as JSON takes at most
	// 16 bytes ("-1.2345678e-38,"), plus labels and templates.
	maxEmbeddingFileBytes = maxEmbedLabels*maxEmbedDim*16 + 1<<20
)

// ReadEmbeddingFile reads and checks a file written by WriteEmbeddingFile.
func ReadEmbeddingFile(path string) (*EmbeddingFile, error) {
	b, err := safeio.ReadFile(path, maxEmbeddingFileBytes)
	if err != nil {
		return nil, fmt.Errorf("label embeddings: %w", err)
	}
	var f EmbeddingFile
	if err := ParseEmbeddingFile(b, &f); err != nil {
		return nil, fmt.Errorf("label embeddings %s: %w", path, err)
	}
	return &f, nil
}

// ParseEmbeddingFile decodes and checks the contents of an embeddings file.
func ParseEmbeddingFile(b []byte, f *EmbeddingFile) error {
	if err := json.Unmarshal(b, f); err != nil {
		return fmt.Errorf("not a label-embeddings file: %w", err)
	}
	if f.Format != embeddingFormat {
		return fmt.Errorf("format %q, want %q", f.Format, embeddingFormat)
	}
	return f.check()
}

// check validates everything later code sizes or indexes by: the
// dimension (Lookup allocates labels × Dim), the label count and names,
// and that each embedding is Dim finite values.
func (f *EmbeddingFile) check() error {
	if f.Dim < 1 || f.Dim > maxEmbedDim {
		return fmt.Errorf("dim %d is outside [1, %d]", f.Dim, maxEmbedDim)
	}
	if len(f.Labels) < 1 || len(f.Labels) > maxEmbedLabels {
		return fmt.Errorf("%d labels, want 1 to %d", len(f.Labels), maxEmbedLabels)
	}
	if len(f.Labels) != len(f.Embeds) {
		return fmt.Errorf("%d labels but %d embeddings", len(f.Labels), len(f.Embeds))
	}
	seen := make(map[string]bool, len(f.Labels))
	for i, e := range f.Embeds {
		l := f.Labels[i]
		if l == "" || seen[l] {
			return fmt.Errorf("label %d (%q) is empty or repeated", i, l)
		}
		seen[l] = true
		if len(e) != f.Dim {
			return fmt.Errorf("embedding of %q has %d values, want %d", l, len(e), f.Dim)
		}
		for _, v := range e {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return fmt.Errorf("embedding of %q holds %v", l, v)
			}
		}
	}
	return nil
}

// Lookup returns the embeddings of names, in order, [len(names)·Dim]. A name
// the file lacks is an error that lists what the file has.
func (f *EmbeddingFile) Lookup(names []string) ([]float32, error) {
	idx := make(map[string]int, len(f.Labels))
	for i, l := range f.Labels {
		idx[l] = i
	}
	out := make([]float32, 0, len(names)*f.Dim)
	var missing []string
	for _, n := range names {
		i, ok := idx[n]
		if !ok {
			missing = append(missing, n)
			continue
		}
		out = append(out, f.Embeds[i]...)
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("unknown label(s) %s: the precomputed embeddings hold only %s (recompute them with `groupvit embed-labels`)",
			quoteList(missing), quoteList(f.Labels))
	}
	return out, nil
}

func quoteList(s []string) string {
	q := make([]string, len(s))
	for i, v := range s {
		q[i] = fmt.Sprintf("%q", v)
	}
	return strings.Join(q, ", ")
}

// Cache keeps label embeddings on disk, one small file per (model, label,
// templates), so a label is run through the text encoder once per model.
type Cache struct {
	Dir string
}

func (c Cache) path(model, label string, templates []string) string {
	h := sha256.New()
	for _, s := range append([]string{model, label}, templates...) {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return filepath.Join(c.Dir, hex.EncodeToString(h.Sum(nil))[:32]+".f32")
}

// Get returns the cached embedding, or false. dim > 0 also checks its size.
func (c Cache) Get(model, label string, templates []string, dim int) ([]float32, bool) {
	if c.Dir == "" {
		return nil, false
	}
	b, err := safeio.ReadFile(c.path(model, label, templates), 4*maxEmbedDim)
	if err != nil || len(b) == 0 || len(b)%4 != 0 || (dim > 0 && len(b) != 4*dim) {
		return nil, false
	}
	return decodeF32(b), true
}

// Put stores an embedding; failures only cost a recomputation later, so
// they are returned for logging, never fatal.
func (c Cache) Put(model, label string, templates []string, e []float32) error {
	if c.Dir == "" {
		return nil
	}
	if err := os.MkdirAll(c.Dir, 0o755); err != nil {
		return err
	}
	return atomicfile.WriteFile(c.path(model, label, templates), encodeF32(e), false)
}

// ParseList splits a comma-separated label list, trimming spaces; empty
// entries and duplicates are errors, since each label is a colour and a
// mask value.
func ParseList(s string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	for _, p := range strings.Split(s, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		if strings.EqualFold(p, "background") {
			return nil, errors.New(`"background" cannot be a label: it is what no label claims (tune --bg-thresh instead)`)
		}
		if seen[p] {
			return nil, fmt.Errorf("label %q is given twice", p)
		}
		seen[p] = true
		out = append(out, p)
	}
	if len(out) == 0 {
		return nil, errors.New("no labels given")
	}
	if len(out) > 255 {
		return nil, fmt.Errorf("%d labels: at most 255 fit the 8-bit label mask", len(out))
	}
	return out, nil
}
