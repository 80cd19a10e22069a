// Package background tells Lip Gloss the terminal's background before
// Bubble Tea's package initialisation asks the terminal for it.
//
// Bubble Tea v1 queries the terminal's background colour (an OSC 11
// request, read back with a timeout of seconds) when its package is
// initialised, that is in every bpfkit process whose stdout is a
// terminal, whatever the command: `bpfkit prog list` would write escape
// sequences to the terminal and, on a terminal that does not answer, wait
// five seconds. The live view of prog top uses no colour that depends on
// the background, so the background is set here and nothing is asked.
//
// Go initialises packages in import-path order among those whose imports
// are ready (the language specification, since Go 1.21): this package,
// importing only Lip Gloss and sorting before github.com/charmbracelet/,
// is initialised after Lip Gloss and before Bubble Tea. It holds nothing
// else and prints nothing.
package background

import "github.com/charmbracelet/lipgloss"

func init() { lipgloss.SetHasDarkBackground(true) }
