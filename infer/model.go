package infer

import (
	"fmt"
	"math"
	"sync"

	"github.com/groupvit-edge/groupvit-edge/tensor"
)

// WeightSource hands out float32 weights by their Hugging Face names.
type WeightSource func(name string) (*tensor.Tensor, error)

// Model is GroupViT's forward pass over a set of weights, written once
// against Ops. Weights are prepared on the host first (BatchNorm folded into
// the preceding Linear, position embeddings resized per input grid), so the
// graph holds only what runs per frame.
type Model struct {
	Arch      Arch
	LogitRaw  float32 // the raw logit_scale parameter; exp() is the scale
	w         map[string]*tensor.Tensor
	posMu     sync.Mutex
	posByGrid map[[2]int]*tensor.Tensor
}

// NewModel gathers and prepares every weight the forward pass reads.
func NewModel(arch Arch, src WeightSource) (*Model, error) {
	return newModel(arch, src, false)
}

// NewPreparedModel takes weights already prepared by NewModel (BatchNorm
// folded, patch projection flattened), as an exported .tflite file holds
// them: the native engine runs such a file with the same forward pass.
func NewPreparedModel(arch Arch, src WeightSource) (*Model, error) {
	return newModel(arch, src, true)
}

// Weights returns the prepared weights by name, for the exporter.
func (m *Model) Weights() map[string]*tensor.Tensor { return m.w }

func newModel(arch Arch, src WeightSource, prepared bool) (*Model, error) {
	m := &Model{Arch: arch, w: map[string]*tensor.Tensor{}, posByGrid: map[[2]int]*tensor.Tensor{}}
	get := func(name string) (*tensor.Tensor, error) {
		t, err := src(name)
		if err != nil {
			return nil, fmt.Errorf("weight %s: %w", name, err)
		}
		return t, nil
	}
	for _, name := range m.weightNames() {
		t, err := get(name)
		if err != nil {
			return nil, err
		}
		m.w[name] = t
	}
	for _, p := range []string{"visual_projection", "text_projection"} {
		if prepared {
			break
		}
		if err := m.foldBatchNorm(p, get); err != nil {
			return nil, err
		}
	}
	// The patch projection is a Conv2d with kernel = stride = patch; as a
	// Linear over flattened (channel, y, x) patches it is the same numbers.
	pw := m.w["vision_model.embeddings.patch_embeddings.projection.weight"]
	m.w["vision_model.embeddings.patch_embeddings.projection.weight"] = &tensor.Tensor{
		Shape: []int{pw.Shape[0], tensor.Numel(pw.Shape[1:])}, Data: pw.Data}
	ls, err := get("logit_scale")
	if err != nil {
		return nil, err
	}
	if len(ls.Data) != 1 {
		return nil, fmt.Errorf("weight logit_scale: want a scalar, got shape %v", ls.Shape)
	}
	m.LogitRaw = ls.Data[0]
	return m, nil
}

// LogitScale is min(exp(logit_scale), 100), the clamp the official
// segmentation decode and training loss apply.
func (m *Model) LogitScale() float32 { return ClampedLogitScale(m.LogitRaw) }

// ClampedLogitScale is min(exp(raw), 100) for a raw logit_scale parameter.
func ClampedLogitScale(raw float32) float32 {
	return float32(math.Min(math.Exp(float64(raw)), 100))
}

func (m *Model) weightNames() []string {
	var n []string
	add := func(prefix string, suffixes ...string) {
		for _, s := range suffixes {
			n = append(n, prefix+s)
		}
	}
	lin := func(prefix string) { add(prefix, ".weight", ".bias") }
	attn := func(prefix string, out string) {
		for _, p := range []string{"q_proj", "k_proj", "v_proj", out} {
			lin(prefix + "." + p)
		}
	}
	block := func(prefix string) {
		attn(prefix+".self_attn", "out_proj")
		lin(prefix + ".layer_norm1")
		lin(prefix + ".layer_norm2")
		lin(prefix + ".mlp.fc1")
		lin(prefix + ".mlp.fc2")
	}
	v := m.Arch.Vision
	lin("vision_model.embeddings.patch_embeddings.projection")
	lin("vision_model.embeddings.layernorm")
	n = append(n, "vision_model.embeddings.position_embeddings")
	for s := range v.Depths {
		st := fmt.Sprintf("vision_model.encoder.stages.%d", s)
		for l := 0; l < v.Depths[s]; l++ {
			block(fmt.Sprintf("%s.layers.%d", st, l))
		}
		if v.GroupTokens[s] == 0 {
			continue
		}
		n = append(n, st+".group_token")
		if s > 0 && v.GroupTokens[s-1] > 0 {
			lin(st + ".group_projector.0")
			lin(st + ".group_projector.1.fc1")
			lin(st + ".group_projector.1.fc2")
		}
		d := st + ".downsample"
		for _, ln := range []string{"norm_tokens", "norm_post_tokens", "norm_x", "norm_new_x",
			"pre_assign_attn.norm2", "pre_assign_attn.norm_post"} {
			lin(d + "." + ln)
		}
		lin(d + ".mlp_inter.fc1")
		lin(d + ".mlp_inter.fc2")
		attn(d+".pre_assign_attn.attn", "out_proj")
		lin(d + ".pre_assign_attn.mlp.fc1")
		lin(d + ".pre_assign_attn.mlp.fc2")
		attn(d+".assign", "proj")
		lin(d + ".mlp_channels.fc1")
		lin(d + ".mlp_channels.fc2")
	}
	lin("vision_model.layernorm")
	n = append(n, "text_model.embeddings.token_embedding.weight", "text_model.embeddings.position_embedding.weight")
	for l := 0; l < m.Arch.Text.Layers; l++ {
		block(fmt.Sprintf("text_model.encoder.layers.%d", l))
	}
	lin("text_model.final_layer_norm")
	for _, p := range []string{"visual_projection", "text_projection"} {
		lin(p + ".0")
		lin(p + ".3")
	}
	return n
}

// foldBatchNorm merges the eval-mode BatchNorm (prefix.1) into the Linear
// before it (prefix.0): BN(xWᵀ+b) = x(sW)ᵀ + s(b−μ) + β with s = γ/√(σ²+ε).
// One Linear instead of four element-wise ops per frame, and nothing for the
// GPU delegate to refuse.
func (m *Model) foldBatchNorm(prefix string, get func(string) (*tensor.Tensor, error)) error {
	bn := map[string]*tensor.Tensor{}
	for _, s := range []string{"weight", "bias", "running_mean", "running_var"} {
		t, err := get(prefix + ".1." + s)
		if err != nil {
			return err
		}
		bn[s] = t
	}
	w, b := m.w[prefix+".0.weight"], m.w[prefix+".0.bias"]
	out, in := w.Shape[0], w.Shape[1]
	for name, t := range bn {
		if len(t.Data) != out {
			return fmt.Errorf("weight %s.1.%s: shape %v, want [%d]", prefix, name, t.Shape, out)
		}
	}
	nw, nb := tensor.New(out, in), tensor.New(out)
	for i := 0; i < out; i++ {
		s := float64(bn["weight"].Data[i]) / math.Sqrt(float64(bn["running_var"].Data[i])+1e-5)
		for k := 0; k < in; k++ {
			nw.Data[i*in+k] = float32(float64(w.Data[i*in+k]) * s)
		}
		nb.Data[i] = float32((float64(b.Data[i])-float64(bn["running_mean"].Data[i]))*s + float64(bn["bias"].Data[i]))
	}
	m.w[prefix+".0.weight"], m.w[prefix+".0.bias"] = nw, nb
	return nil
}

// PositionEmbedding returns the position embeddings for a gh×gw patch grid:
// the trained ones when the grid matches, else their bicubic resize exactly
// as the official GroupViT does it (F.interpolate to size (gh, gw),
// align_corners=False). Results are cached per grid.
func (m *Model) PositionEmbedding(gh, gw int) (*tensor.Tensor, error) {
	m.posMu.Lock()
	defer m.posMu.Unlock()
	if t, ok := m.posByGrid[[2]int{gh, gw}]; ok {
		return t, nil
	}
	pe := m.w["vision_model.embeddings.position_embeddings"]
	n, d := pe.Shape[len(pe.Shape)-2], pe.Shape[len(pe.Shape)-1]
	side := int(math.Round(math.Sqrt(float64(n))))
	if side*side != n {
		return nil, fmt.Errorf("position embeddings hold %d positions, not a square grid", n)
	}
	var out *tensor.Tensor
	if gh*gw == n && gh == gw {
		out = &tensor.Tensor{Shape: []int{1, n, d}, Data: pe.Data}
	} else {
		out = tensor.New(1, gh*gw, d)
		bicubicResize(out.Data, pe.Data, side, side, gh, gw, d)
	}
	m.posByGrid[[2]int{gh, gw}] = out
	return out, nil
}

func (m *Model) c(o Ops, name string) Value {
	t, ok := m.w[name]
	if !ok {
		panic("infer: model code reads unknown weight " + name)
	}
	return o.Const(name, t)
}

func (m *Model) linear(o Ops, x Value, prefix string) Value {
	return o.Linear(x, m.c(o, prefix+".weight"), m.c(o, prefix+".bias"))
}

func (m *Model) layerNorm(o Ops, x Value, prefix string, eps float32) Value {
	return o.LayerNorm(x, m.c(o, prefix+".weight"), m.c(o, prefix+".bias"), eps)
}

// attention is multi-head attention of queries q [B, Nq, C] over keys and
// values kv [B, Nk, C], each with its own projection (HF's q/k/v_proj); mask,
// when set, is added to the scores (the text encoder's causal mask).
func (m *Model) attention(o Ops, q, kv Value, prefix, outProj string, heads int, mask Value) Value {
	qd, kd := q.Dims(), kv.Dims()
	b, nq, c := qd[0], qd[1], qd[2]
	nk := kd[1]
	hd := c / heads
	split := func(x Value, n int) Value {
		return o.Transpose(o.Reshape(x, b, n, heads, hd), 0, 2, 1, 3)
	}
	qh := split(o.Scale(m.linear(o, q, prefix+".q_proj"), float32(1/math.Sqrt(float64(hd)))), nq)
	kh := split(m.linear(o, kv, prefix+".k_proj"), nk)
	vh := split(m.linear(o, kv, prefix+".v_proj"), nk)
	s := o.MatMul(qh, kh, true)
	if mask != nil {
		s = o.Add(s, mask)
	}
	y := o.MatMul(o.Softmax(s), vh, false)
	y = o.Reshape(o.Transpose(y, 0, 2, 1, 3), b, nq, c)
	return m.linear(o, y, prefix+"."+outProj)
}

func (m *Model) mlp(o Ops, x Value, prefix string, act func(Value) Value) Value {
	return m.linear(o, act(m.linear(o, x, prefix+".fc1")), prefix+".fc2")
}

// block is a pre-norm transformer layer (ViT and CLIP text share it).
func (m *Model) block(o Ops, x Value, prefix string, heads int, eps float32, act func(Value) Value, mask Value) Value {
	h := m.layerNorm(o, x, prefix+".layer_norm1", eps)
	x = o.Add(x, m.attention(o, h, h, prefix+".self_attn", "out_proj", heads, mask))
	return o.Add(x, m.mlp(o, m.layerNorm(o, x, prefix+".layer_norm2", eps), prefix+".mlp", act))
}

// tokenMix is the MLP-Mixer step that mixes along the token axis: [B, G, C]
// → [B, G', C] (the grouping block's mlp_inter and the group projector).
func (m *Model) tokenMix(o Ops, x Value, prefix string) Value {
	y := o.Transpose(x, 0, 2, 1)
	y = m.mlp(o, y, prefix, o.GELU)
	return o.Transpose(y, 0, 2, 1)
}
