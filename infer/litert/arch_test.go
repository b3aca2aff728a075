package litert

import "runtime"

func isArm64() bool { return runtime.GOARCH == "arm64" }
