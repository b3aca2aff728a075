//go:build unix

package headless

import (
	"os"
	"syscall"
)

// ownProcessGroup puts the browser in a process group of its own, so that
// killGroup reaches its renderer and GPU helpers too.
func ownProcessGroup() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}

// killGroup kills the browser and every helper it started. It is only
// called while the browser (the group's leader) is still running, so the
// group id cannot have been reused.
func killGroup(p *os.Process) {
	if err := syscall.Kill(-p.Pid, syscall.SIGKILL); err != nil {
		p.Kill()
	}
}
