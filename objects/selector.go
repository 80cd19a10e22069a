package objects

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// SelectorKind is how a Selector picks objects.
type SelectorKind int

// The selector kinds, with bpftool's keywords.
const (
	SelectAll    SelectorKind = iota // every object
	SelectID                         // id ID
	SelectPinned                     // pinned PATH
	SelectTag                        // tag TAG (programs)
	SelectName                       // name NAME (programs and maps)
)

var selectorKeywords = [...]string{SelectAll: "all", SelectID: "id", SelectPinned: "pinned", SelectTag: "tag", SelectName: "name"}

// String returns the bpftool keyword of the kind.
func (k SelectorKind) String() string {
	if int(k) < len(selectorKeywords) {
		return selectorKeywords[k]
	}
	return fmt.Sprintf("SelectorKind(%d)", int(k))
}

// Selector picks kernel objects the way bpftool's PROG, MAP and LINK
// arguments do: `id ID`, `pinned PATH`, `tag TAG` or `name NAME`. The zero
// Selector selects every object.
type Selector struct {
	Kind  SelectorKind
	Value string
	ID    uint32 // parsed Value when Kind is SelectID
}

// All reports whether the selector selects every object.
func (s Selector) All() bool { return s.Kind == SelectAll }

// Unique reports whether the selector names one object by construction (an
// id or a pin), as opposed to a tag or name that several objects may share.
func (s Selector) Unique() bool { return s.Kind == SelectID || s.Kind == SelectPinned }

// String returns the selector as the user typed it.
func (s Selector) String() string {
	if s.All() {
		return "all"
	}
	return s.Kind.String() + " " + s.Value
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

// parseSelector parses one of kinds from the front of words and returns
// the words after it. noun names the object in messages.
func parseSelector(noun string, words []string, kinds []SelectorKind) (Selector, []string, error) {
	if len(words) == 0 {
		return Selector{}, nil, fmt.Errorf("%w: %s specifier is missing", ErrBadSelector, noun)
	}
	names := make([]string, len(kinds))
	for i, k := range kinds {
		names[i] = k.String()
	}
	word, ok := MatchPrefix(words[0], names...)
	if !ok {
		return Selector{}, nil, fmt.Errorf("%w: expected %s, got: '%s'", ErrBadSelector, quoteList(names), words[0])
	}
	if len(words) < 2 {
		return Selector{}, nil, fmt.Errorf("%w: '%s' needs a value", ErrBadSelector, word)
	}
	sel := Selector{Value: words[1]}
	for _, k := range kinds {
		if k.String() == word {
			sel.Kind = k
		}
	}
	switch sel.Kind {
	case SelectID:
		id, err := strconv.ParseUint(sel.Value, 0, 32)
		if err != nil {
			return Selector{}, nil, fmt.Errorf("%w: can't parse %s as ID", ErrBadSelector, sel.Value)
		}
		sel.ID = uint32(id)
	case SelectTag:
		if b, err := hex.DecodeString(sel.Value); err != nil || len(b) != 8 {
			return Selector{}, nil, fmt.Errorf("%w: can't parse tag %s: want 16 hex digits", ErrBadSelector, sel.Value)
		}
		sel.Value = strings.ToLower(sel.Value)
	case SelectName:
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
