package models

import (
	"os"
	"testing"
)

// FuzzParseConfig: any config.json either fails with an error or yields a
// config that validates and survives a rewrite.
func FuzzParseConfig(f *testing.F) {
	if b, err := os.ReadFile(fixturePath("config.json")); err == nil {
		f.Add(b)
	}
	f.Add([]byte(`{"vision_config":{"image_size":1000000,"patch_size":1}}`))
	f.Add([]byte(`{"text_config_dict":{"hidden_size":-1},"vision_config":{"depths":[1,1],"num_group_tokens":[8,0],"num_output_groups":[4]}}`))
	f.Add([]byte(`{"vision_config":{"assign_mlp_ratio":[1e308,0.5]}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseConfig(data)
		if err != nil {
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("accepted config does not validate: %v", err)
		}
		out, err := c.EncodeJSON()
		if err != nil {
			t.Fatalf("accepted config does not encode: %v", err)
		}
		if _, err := ParseConfig(out); err != nil {
			t.Fatalf("re-encoded config does not parse: %v", err)
		}
	})
}
