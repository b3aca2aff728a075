//go:build !linux

package capture

// openV4L2 is the default CameraOptions.Open; V4L2 exists only on Linux.
func openV4L2(path string) (Device, error) { return nil, ErrNoCameraSupport }

// ListCameras finds V4L2 capture devices; there are none off Linux.
func ListCameras() ([]CameraInfo, error) { return nil, ErrNoCameraSupport }
