package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/urfave/cli/v2"
	"golang.org/x/sys/unix"
)

// endSignals end a command: Ctrl-C, kill's default and a closed terminal.
var endSignals = []os.Signal{os.Interrupt, syscall.SIGTERM, syscall.SIGHUP}

// ignoreAfterAction is set by main: the process ends with the command,
// so a signal after its action returned is ignored (see catchSignals).
var ignoreAfterAction bool

// interrupted is the error of a command a signal stopped before it was
// done, after it removed what it had made. Its exit status is the shell's
// for a process the signal killed, 128 + the signal's number.
type interrupted struct{ sig syscall.Signal }

func (e *interrupted) Error() string {
	return fmt.Sprintf("interrupted by %s: nothing it made was left behind", unix.SignalName(e.sig))
}

func (e *interrupted) ExitCode() int { return 128 + int(e.sig) }

// catchSignals wraps the action of every command that creates kernel
// state (load, loadall, run, map create, the pin verbs, asm demo) or runs
// until stopped (prog top, prog profile, metrics serve): from the action's
// first line until it returns, SIGINT, SIGTERM and SIGHUP do not kill
// bpfkit but cancel c.Context with an *interrupted cause, and a write to a
// closed stdout fails with EPIPE instead of killing bpfkit. The action,
// and the library calls it hands the context to, stop at their next check
// (between kernel calls: the verifier is never cut short) and undo what
// they made, as a failure would. A signal that comes once the action
// has returned finds the command's work complete: in the bpfkit process
// (ignoreAfterAction) it is ignored, so that the exit status says what was
// done; a test running commands in its own process gets its default
// handling back.
func catchSignals(action cli.ActionFunc) cli.ActionFunc {
	return func(c *cli.Context) error {
		sigs := make(chan os.Signal, 1)
		signal.Notify(sigs, endSignals...)
		signal.Notify(make(chan os.Signal, 1), syscall.SIGPIPE)
		parent := c.Context
		if parent == nil {
			parent = context.Background()
		}
		ctx, cancel := context.WithCancelCause(parent)
		done := make(chan struct{})
		go func() {
			select {
			case s := <-sigs:
				cancel(&interrupted{s.(syscall.Signal)})
			case <-done:
			}
		}()
		defer func() {
			if ignoreAfterAction {
				signal.Ignore(endSignals...) // no moment with the default action
			} else {
				signal.Stop(sigs)
			}
			close(done)
			cancel(nil)
		}()
		c.Context = ctx
		return action(c)
	}
}

// stopped returns the signal that interrupted the command, as an error,
// or nil.
func stopped(c *cli.Context) error {
	if c.Context == nil || c.Context.Err() == nil {
		return nil
	}
	return context.Cause(c.Context)
}
