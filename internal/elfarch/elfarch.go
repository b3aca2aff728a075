// Package elfarch checks that a shared library was built for the machine
// the program runs on, before it is handed to dlopen: glibc answers a
// library of the wrong architecture with "cannot open shared object file:
// No such file or directory" for a file that plainly exists, which sends
// the reader looking for the wrong problem.
package elfarch

import (
	"debug/elf"
	"errors"
	"fmt"
	"runtime"
)

// ErrWrongArch is wrapped by Check's error when the file is a shared
// library for another machine.
var ErrWrongArch = errors.New("shared library built for another architecture")

// goMachine is the ELF machine each GOARCH this project ships for runs.
var goMachine = map[string]elf.Machine{
	"amd64": elf.EM_X86_64,
	"arm64": elf.EM_AARCH64,
	"386":   elf.EM_386,
	"arm":   elf.EM_ARM,
}

// Check reads path's ELF header and returns an error naming both
// architectures when its machine is not the running program's. A file
// that is not ELF at all is an error too; a missing file is left to the
// caller's own search (Check returns the *fs.PathError unchanged).
func Check(path string) error {
	return check(path, runtime.GOARCH)
}

func check(path, goarch string) error {
	f, err := elf.Open(path)
	if err != nil {
		var fe *elf.FormatError
		if errors.As(err, &fe) {
			return fmt.Errorf("%s is not an ELF shared library: %w", path, err)
		}
		return err
	}
	defer f.Close()
	want, known := goMachine[goarch]
	if !known || f.Machine == want {
		return nil
	}
	return fmt.Errorf("%w: %s is for %s (%s), this program runs on %s (%s); fetch the %s build",
		ErrWrongArch, path, archName(f.Machine), f.Machine, goarch, want, archName(want))
}

// archName is the name a reader picks a download by.
func archName(m elf.Machine) string {
	switch m {
	case elf.EM_X86_64:
		return "x86_64"
	case elf.EM_AARCH64:
		return "aarch64"
	case elf.EM_386:
		return "i386"
	case elf.EM_ARM:
		return "32-bit arm"
	}
	return m.String()
}
