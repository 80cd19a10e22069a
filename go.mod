module github.com/bpfkit/bpfkit

go 1.25.0
