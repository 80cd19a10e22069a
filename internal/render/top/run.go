package top

import (
	"context"
	"errors"
	"io"

	tea "github.com/charmbracelet/bubbletea"

	// Before Bubble Tea is initialised: no terminal query at start.
	_ "github.com/bpfkit/bpfkit/internal/render/top/background"
)

// Run shows the live view on out, a terminal, reading keys from the
// terminal, until q or Ctrl-C, until next returns io.EOF, or until ctx
// ends (a signal). The terminal is given back as it was on each of these
// ways out. An error from next ends the view and is returned.
func Run(ctx context.Context, out io.Writer, next Source, opts Options) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // ends a wait for the next interval
	m := newModel(ctx, next, opts)
	p := tea.NewProgram(m, tea.WithContext(ctx), tea.WithOutput(out), tea.WithAltScreen(),
		// The command catches SIGINT and SIGTERM and ends ctx.
		tea.WithoutSignalHandler())
	_, err := p.Run()
	switch {
	case errors.Is(err, tea.ErrProgramKilled) && ctx.Err() != nil:
		return nil // a signal ended the view: not an error
	case err != nil:
		return err
	case m.err != nil && !errors.Is(m.err, io.EOF) && !errors.Is(m.err, context.Canceled):
		return m.err
	}
	return nil
}
