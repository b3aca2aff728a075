package cli

import (
	"context"
	"fmt"

	"github.com/groupvit-edge/groupvit-edge/capture"
)

func camerasCmd(_ context.Context, e *env, args []string) error {
	fs := newFlags(e, "cameras", "")
	if err := parse(fs, args); err != nil {
		return err
	}
	cams, err := capture.ListCameras()
	if err != nil {
		return fmt.Errorf("listing cameras: %w", err)
	}
	if len(cams) == 0 {
		fmt.Fprintln(e.stdout, "no V4L2 cameras found (is one plugged in, and may this user open /dev/video*?)")
		return nil
	}
	return capture.WriteCameraList(e.stdout, cams)
}
