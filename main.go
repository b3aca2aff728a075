// Command groupvit runs GroupViT open-vocabulary segmentation on images,
// video and cameras: see README.md, or run `groupvit help`.
package main

import (
	"os"

	"github.com/groupvit-edge/groupvit-edge/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], os.Stdout, os.Stderr))
}
