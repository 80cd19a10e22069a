package objects

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Selector picks kernel objects the way bpftool's PROG, MAP and LINK
// arguments do: `id ID`, `pinned PATH`, `tag TAG` or `name NAME`. The zero
// Selector selects every object.
type Selector struct {
	Kind  string // "id", "pinned", "tag", "name", or "" for all
	Value string
	ID    uint32 // parsed Value when Kind is "id"
}

// All reports whether the selector selects every object.
func (s Selector) All() bool { return s.Kind == "" }

// String returns the selector as the user typed it.
func (s Selector) String() string {
	if s.All() {
		return "all"
	}
	return s.Kind + " " + s.Value
}

// ErrBadSelector is returned for selectors that do not parse.
var ErrBadSelector = errors.New("bad selector")

// MatchPrefix returns the choice that word is a prefix of, the way bpftool
// matches keywords: the first choice wins.
func MatchPrefix(word string, choices ...string) (string, bool) {
	if word == "" {
		return "", false
	}
	for _, c := range choices {
		if strings.HasPrefix(c, word) {
			return c, true
		}
	}
	return "", false
}

// ParseProgSelector parses `id ID | pinned PATH | tag TAG | name NAME` from
// the front of words and returns the words after it.
func ParseProgSelector(words []string) (Selector, []string, error) {
	return parseSelector("program", words, "id", "pinned", "tag", "name")
}

// ParseMapSelector parses `id ID | pinned PATH | name NAME`.
func ParseMapSelector(words []string) (Selector, []string, error) {
	return parseSelector("map", words, "id", "pinned", "name")
}

// ParseLinkSelector parses `id ID | pinned PATH`.
func ParseLinkSelector(words []string) (Selector, []string, error) {
	return parseSelector("link", words, "id", "pinned")
}

func parseSelector(noun string, words []string, kinds ...string) (Selector, []string, error) {
	if len(words) == 0 {
		return Selector{}, nil, fmt.Errorf("%w: %s specifier is missing", ErrBadSelector, noun)
	}
	kind, ok := MatchPrefix(words[0], kinds...)
	if !ok {
		return Selector{}, nil, fmt.Errorf("%w: expected %s, got: '%s'", ErrBadSelector, quoteList(kinds), words[0])
	}
	if len(words) < 2 {
		return Selector{}, nil, fmt.Errorf("%w: '%s' needs a value", ErrBadSelector, kind)
	}
	sel := Selector{Kind: kind, Value: words[1]}
	switch kind {
	case "id":
		id, err := strconv.ParseUint(sel.Value, 0, 32)
		if err != nil {
			return Selector{}, nil, fmt.Errorf("%w: can't parse %s as ID", ErrBadSelector, sel.Value)
		}
		sel.ID = uint32(id)
	case "tag":
		if b, err := hex.DecodeString(sel.Value); err != nil || len(b) != 8 {
			return Selector{}, nil, fmt.Errorf("%w: can't parse tag %s: want 16 hex digits", ErrBadSelector, sel.Value)
		}
		sel.Value = strings.ToLower(sel.Value)
	case "name":
		if noun == "map" && len(sel.Value) > 15 {
			return Selector{}, nil, fmt.Errorf("%w: can't parse name %s: map names are at most 15 characters", ErrBadSelector, sel.Value)
		}
	}
	return sel, words[2:], nil
}

func quoteList(words []string) string {
	q := make([]string, len(words))
	for i, w := range words {
		q[i] = "'" + w + "'"
	}
	if len(q) == 1 {
		return q[0]
	}
	return strings.Join(q[:len(q)-1], ", ") + " or " + q[len(q)-1]
}
