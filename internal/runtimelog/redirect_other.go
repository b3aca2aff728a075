//go:build !(linux || darwin)

package runtimelog

import "errors"

type redirection struct{}

func redirect() (*redirection, error) { return nil, errors.New("not supported on this system") }

func (r *redirection) restore() ([]byte, error) { return nil, nil }
