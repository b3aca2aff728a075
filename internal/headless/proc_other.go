//go:build !unix

package headless

import (
	"os"
	"syscall"
)

func ownProcessGroup() *syscall.SysProcAttr { return nil }

func killGroup(p *os.Process) { p.Kill() }
