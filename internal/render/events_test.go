package render

import (
	"bytes"
	"testing"

	"github.com/bpfkit/bpfkit/objects/events"
)

// TestEventLostLine: a loss report prints as bpftool's event_pipe prints it.
func TestEventLostLine(t *testing.T) {
	var b bytes.Buffer
	p := NewEventPrinter(&b, false, false, nil)
	p.Print(&events.Record{Kind: events.Lost, Lost: 1234})
	if b.String() != "lost 1234 events\n" {
		t.Errorf("printed %q", b.String())
	}
}
