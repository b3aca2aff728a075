module github.com/groupvit-edge/groupvit-edge

go 1.26.8

require (
	github.com/blackjack/webcam v0.6.1 // indirect
	github.com/ebitengine/purego v0.11.3 // indirect
	github.com/google/flatbuffers v25.12.19+incompatible // indirect
	github.com/rogpeppe/go-internal v1.16.0 // indirect
	github.com/spf13/pflag v1.1.0 // indirect
	golang.org/x/image v0.48.0 // indirect
	golang.org/x/sys v0.50.0 // indirect
	golang.org/x/tools v0.26.0 // indirect
)
