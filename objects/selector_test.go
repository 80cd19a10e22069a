package objects

import (
	"strings"
	"testing"
)

func TestParseSelector(t *testing.T) {
	for _, tc := range []struct {
		words []string
		kind  string
		value string
		rest  int
		err   string
	}{
		{[]string{"id", "42", "opcodes"}, "id", "42", 1, ""},
		{[]string{"i", "0x10"}, "id", "0x10", 0, ""},
		{[]string{"tag", "95BE9623B37D5819"}, "tag", "95be9623b37d5819", 0, ""},
		{[]string{"n", "x"}, "name", "x", 0, ""},
		{[]string{"pinned", "/sys/fs/bpf/x"}, "pinned", "/sys/fs/bpf/x", 0, ""},
		{[]string{"id", "-1"}, "", "", 0, "can't parse -1 as ID"},
		{[]string{"id", "4294967296"}, "", "", 0, "can't parse 4294967296 as ID"},
		{[]string{"tag", "123"}, "", "", 0, "want 16 hex digits"},
		{[]string{"name"}, "", "", 0, "'name' needs a value"},
		{[]string{}, "", "", 0, "program specifier is missing"},
		{[]string{"", "1"}, "", "", 0, "expected"},
	} {
		sel, rest, err := Programs.ParseSelector(tc.words)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: error %v, want %q", tc.words, err, tc.err)
			}
			continue
		}
		if err != nil || sel.Kind.String() != tc.kind || sel.Value != tc.value || len(rest) != tc.rest {
			t.Errorf("%q: got %+v rest %q err %v", tc.words, sel, rest, err)
		}
	}
	if _, _, err := Maps.ParseSelector([]string{"tag", "0000000000000000"}); err == nil {
		t.Error("maps accepted a tag")
	}
	if _, _, err := Links.ParseSelector([]string{"name", "x"}); err == nil {
		t.Error("links accepted a name")
	}
}
