package infer

import (
	"fmt"
	"math"
)

// ImageOutputs are what the image encoder hands to the label matcher.
type ImageOutputs struct {
	GroupEmbeds Value // [B, G, D], each group's projected, unit-length embedding
	ImageEmbed  Value // [B, D], the pooled image's projected, unit-length embedding
	// SoftMap is the chained soft assignment [B, N, G]: for every patch of
	// the input grid, its weight on each final group (patches → groups of
	// stage 0 → … → final groups).
	SoftMap Value
}

// EncodeImage runs the vision model on flattened patches [B, N, C·p·p] (see
// Patchify) of a gh×gw grid; pos is PositionEmbedding(gh, gw).
func (m *Model) EncodeImage(o Ops, patches, pos Value, obs Observer) ImageOutputs {
	v := m.Arch.Vision
	eps := v.Eps
	x := m.linear(o, patches, "vision_model.embeddings.patch_embeddings.projection")
	x = m.layerNorm(o, x, "vision_model.embeddings.layernorm", eps)
	x = o.Add(x, pos)
	obs.see("patch_tokens_stage0_in", x)

	var prevGroups, chain Value
	for s := range v.Depths {
		st := fmt.Sprintf("vision_model.encoder.stages.%d", s)
		nTok := x.Dims()[1]
		var groups Value
		seq := x
		if v.GroupTokens[s] > 0 {
			groups = m.c(o, st+".group_token")
			if prevGroups != nil {
				// Later stages start from their learned tokens plus a
				// projection of the previous stage's groups.
				p := m.layerNorm(o, prevGroups, st+".group_projector.0", eps)
				groups = o.Add(groups, m.tokenMix(o, p, st+".group_projector.1"))
			}
			seq = o.Concat(1, x, groups)
		}
		for l := 0; l < v.Depths[s]; l++ {
			seq = m.block(o, seq, fmt.Sprintf("%s.layers.%d", st, l), v.Heads, eps, o.GELU, nil)
			obs.see(fmt.Sprintf("stage%d_block%d", s, l), seq)
		}
		if v.GroupTokens[s] == 0 {
			x = seq
			continue
		}
		total := seq.Dims()[1]
		x = o.Slice(seq, 1, 0, nTok)
		groups = o.Slice(seq, 1, nTok, total)
		var soft Value
		x, soft = m.group(o, x, groups, st+".downsample", s, obs)
		obs.see(fmt.Sprintf("group_tokens_out_%d", s), x)
		if chain == nil {
			chain = soft
		} else {
			chain = o.MatMul(chain, soft, false)
		}
		prevGroups = groups
	}
	x = m.layerNorm(o, x, "vision_model.layernorm", eps)
	obs.see("image_tokens_final", x)
	pooled := o.Mean(x, 1)
	obs.see("image_pooled", pooled)
	return ImageOutputs{
		GroupEmbeds: o.L2Normalize(m.project(o, x, "visual_projection")),
		ImageEmbed:  o.L2Normalize(m.project(o, pooled, "visual_projection")),
		SoftMap:     chain,
	}
}

// group is the grouping block: the stage's group tokens are mixed into the
// output groups, attend to the image tokens, and then every image token is
// hard-assigned to one group and merged into it. It returns the new tokens
// [B, G', C] and the soft assignment [B, N, G'] (tokens × groups).
func (m *Model) group(o Ops, x, groups Value, d string, stage int, obs Observer) (Value, Value) {
	v := m.Arch.Vision
	eps := v.Eps
	groups = m.layerNorm(o, groups, d+".norm_tokens", eps)
	x = m.layerNorm(o, x, d+".norm_x", eps)
	proj := m.layerNorm(o, m.tokenMix(o, groups, d+".mlp_inter"), d+".norm_post_tokens", eps)

	// Cross-attention block with post-norm: queries are the projected
	// groups, keys and values the image tokens.
	pa := d + ".pre_assign_attn"
	proj = o.Add(proj, m.attention(o, proj, x, pa+".attn", "out_proj", v.Heads, nil))
	proj = o.Add(proj, m.mlp(o, m.layerNorm(o, proj, pa+".norm2", eps), pa+".mlp", o.GELU))
	proj = m.layerNorm(o, proj, pa+".norm_post", eps)

	// Assignment: one head, scale dim^-0.5. Scores are laid out tokens ×
	// groups so that the softmax over groups is a last-axis softmax.
	a := d + ".assign"
	c := proj.Dims()[2]
	q := m.linear(o, proj, a+".q_proj")
	k := o.Scale(m.linear(o, x, a+".k_proj"), float32(1/math.Sqrt(float64(c))))
	val := m.linear(o, x, a+".v_proj")
	scores := o.MatMul(k, q, true) // [B, N, G]
	soft := o.Softmax(scores)
	hard := o.OneHotArgMax(scores)
	obs.see(fmt.Sprintf("soft_attn_%d", stage), o.Transpose(soft, 0, 2, 1))
	obs.see(fmt.Sprintf("hard_attn_%d", stage), o.Transpose(hard, 0, 2, 1))

	// Each group averages its tokens, damped by assign_eps (1.0 in the
	// released model, so a group with few tokens stays close to zero).
	attn := o.Transpose(hard, 0, 2, 1) // [B, G, N]
	attn = o.Div(attn, o.AddScalar(o.SumLast(attn), v.AssignEps))
	out := m.linear(o, o.MatMul(attn, val, false), a+".proj")
	out = o.Add(out, proj)
	out = o.Add(out, m.mlp(o, m.layerNorm(o, out, d+".norm_new_x", eps), d+".mlp_channels", o.GELU))
	return out, soft
}

// project is the projector MLP (Linear, BatchNorm folded in, ReLU, Linear).
func (m *Model) project(o Ops, x Value, prefix string) Value {
	return m.linear(o, o.ReLU(m.linear(o, x, prefix+".0")), prefix+".3")
}

// TextOutputs are the text encoder's results.
type TextOutputs struct {
	Embeds Value // [B, D], unit length
}

// EncodeText runs the text model on token ids [B, T] (T ≤ context). The
// sentence is read where Arch.Text's pooling rule says: the first
// end-of-text id, or the largest id (which, in CLIP's vocabulary, is the
// end-of-text token too).
func (m *Model) EncodeText(o Ops, ids Value, obs Observer) TextOutputs {
	t := m.Arch.Text
	d := ids.Dims()
	b, n := d[0], d[1]
	x := o.Embed(m.c(o, "text_model.embeddings.token_embedding.weight"), ids)
	pos := o.Slice(m.c(o, "text_model.embeddings.position_embedding.weight"), 0, 0, n)
	x = o.Add(x, pos)
	mask := o.Const(fmt.Sprintf("causal_mask_%d", n), causalMask(n))
	for l := 0; l < t.Layers; l++ {
		x = m.block(o, x, fmt.Sprintf("text_model.encoder.layers.%d", l), t.Heads, t.Eps, o.QuickGELU, mask)
		obs.see(fmt.Sprintf("text_block%d", l), x)
	}
	x = m.layerNorm(o, x, "text_model.final_layer_norm", t.Eps)
	var at Value
	if t.PoolEOS {
		at = o.OneHotFirst(ids, t.EOSID)
	} else {
		at = o.OneHotArgMax(ids)
	}
	eot := o.Reshape(at, b, 1, n)
	pooled := o.Reshape(o.MatMul(eot, x, false), b, x.Dims()[2])
	obs.see("text_pooled", pooled)
	return TextOutputs{Embeds: o.L2Normalize(m.project(o, pooled, "text_projection"))}
}
