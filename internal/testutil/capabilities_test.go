package testutil

import (
	"slices"
	"testing"
)

// TestCapabilities probes every named capability and checks the kernel
// has those BPFKIT_REQUIRE lists (the qemu guest's runner sets it).
func TestCapabilities(t *testing.T) {
	RequirePrivileged(t)
	required, err := Required()
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range Capabilities() {
		err := Have(n)
		switch {
		case err == nil:
			t.Logf("kernel %s has %s", release(), n)
		case slices.Contains(required, n):
			t.Errorf("BPFKIT_REQUIRE: kernel %s lacks %s: %v", release(), n, err)
		default:
			t.Logf("kernel %s lacks %s: %v", release(), n, err)
		}
	}
}

// TestRequiresLacks: Requires skips exactly where the capability is
// missing (and not required), Lacks exactly where it is present, and
// neither turns into a failure under BPFKIT_STRICT=1.
func TestRequiresLacks(t *testing.T) {
	RequirePrivileged(t)
	required, err := Required()
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range Capabilities() {
		have := Have(n) == nil
		if !have && slices.Contains(required, n) {
			continue // TestCapabilities reports it
		}
		var ranRequires, ranLacks bool
		t.Run("Requires_"+n, func(t *testing.T) {
			Requires(t, n)
			ranRequires = true
		})
		t.Run("Lacks_"+n, func(t *testing.T) {
			Lacks(t, n)
			ranLacks = true
		})
		if ranRequires != have || ranLacks == have {
			t.Errorf("%s: have %v, Requires ran the test: %v, Lacks ran it: %v", n, have, ranRequires, ranLacks)
		}
	}
}
