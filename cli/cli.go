// Package cli is the groupvit command: flag parsing and the wiring of
// capture → segment → overlay → output for each subcommand. main.go only
// calls Main, so tests can run the whole command in-process (testscript).
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"

	"github.com/spf13/pflag"
)

// env is what a subcommand may touch of the outside world.
type env struct {
	stdout, stderr io.Writer
	getenv         func(string) string
}

type command struct {
	summary string
	run     func(ctx context.Context, e *env, args []string) error
}

func commands() map[string]command {
	return map[string]command{
		"run":          {"segment images, folders, video or a camera by the given labels", runCmd},
		"embed-labels": {"precompute label embeddings for boards that cannot run the text encoder", embedLabelsCmd},
		"init-model":   {"write a randomly initialised checkpoint (tests, benchmarks, placeholders)", initModelCmd},
		"export":       {"convert a checkpoint to a .tflite file (fp32, fp16 for GPU, int8 for CPU)", exportCmd},
		"eval":         {"zero-shot mIoU on a labelled evaluation set, with baselines", evalCmd},
		"bench":        {"time each engine and precision side by side: ms per frame, model size, peak memory", benchCmd},
		"quant-report": {"measure int8 against float32 side by side: drift per block, flipped groupings and labels, margins", quantReportCmd},
		"inspect":      {"describe a .tflite file: signatures, ops, sizes, metadata, GPU placement as the runtime decides it", inspectCmd},
		"cameras":      {"list V4L2 cameras with their formats, sizes and frame rates", camerasCmd},
		"version":      {"print the version", versionCmd},
	}
}

// Version is set at build time with -ldflags "-X ...cli.Version=...".
var Version = "dev"

// errUsage marks errors caused by how the command was called (exit 2).
var errUsage = errors.New("usage")

// errPartial reports that some inputs failed while others were processed
// (exit 1 after all the work is done).
var errPartial = errors.New("some inputs failed")

// Main runs the groupvit command with args (without the program name) and
// returns the exit status: 0 success, 1 failure, 2 usage error.
func Main(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	e := &env{stdout: stdout, stderr: stderr, getenv: os.Getenv}
	cmds := commands()
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stdout, cmds)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	c, ok := cmds[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "groupvit: unknown command %q\n", args[0])
		usage(stderr, cmds)
		return 2
	}
	err := c.run(ctx, e, args[1:])
	switch {
	case err == nil:
		return 0
	case errors.Is(err, pflag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		fmt.Fprintf(stderr, "groupvit %s: %s\n", args[0], displayText(err.Error()))
		return 2
	default: // errPartial (some inputs failed) or a failure of the command
		fmt.Fprintf(stderr, "groupvit %s: %s\n", args[0], displayText(err.Error()))
		return 1
	}
}

func usage(w io.Writer, cmds map[string]command) {
	fmt.Fprintln(w, "groupvit: open-vocabulary segmentation with GroupViT on the edge")
	fmt.Fprintln(w, "\nusage: groupvit <command> [flags]\n\ncommands:")
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-13s %s\n", n, cmds[n].summary)
	}
	fmt.Fprintln(w, "\nRun 'groupvit <command> --help' for its flags.")
}

// newFlags makes a flag set that reports errors instead of exiting.
func newFlags(e *env, name, synopsis string) *pflag.FlagSet {
	fs := pflag.NewFlagSet(name, pflag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.SortFlags = false
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "usage: groupvit %s %s\n\nflags:\n", name, synopsis)
		fs.PrintDefaults()
	}
	return fs
}

func parse(fs *pflag.FlagSet, args []string) error {
	if err := rangesCover(fs); err != nil {
		return err
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	return checkFlagRanges(fs)
}

func versionCmd(_ context.Context, e *env, args []string) error {
	fs := newFlags(e, "version", "")
	if err := parse(fs, args); err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, "groupvit", Version)
	return nil
}

func joinQuoted(s []string) string {
	q := make([]string, len(s))
	for i, v := range s {
		q[i] = fmt.Sprintf("%q", v)
	}
	return strings.Join(q, ", ")
}
