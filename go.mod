module github.com/groupvit-edge/groupvit-edge

go 1.26.8

require (
	github.com/blackjack/webcam v0.6.1
	github.com/ebitengine/purego v0.11.3
	github.com/google/flatbuffers v25.12.19+incompatible
	github.com/rogpeppe/go-internal v1.16.0
	github.com/spf13/pflag v1.1.0
	golang.org/x/image v0.48.0
	golang.org/x/sys v0.50.0
)

require golang.org/x/tools v0.26.0 // indirect
